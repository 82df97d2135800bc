"""Load the installed config into a real JupyterHub (in-memory database).

Runs the hub's own role, user and service initialisation, so a bad scope, a
bad role or a bad service key fails here as it would at hub start.
"""

import asyncio
import json

import pytest
from jupyterhub import orm, roles, scopes
from jupyterhub.spawner import SimpleLocalProcessSpawner

from helpers import start_hub
from japps import install_jhub_apps


def login_token_scopes(app, username):
    """The scopes of the token a user gets by logging into japps.

    Follows the hub's authorize handler: the client's default scopes,
    intersected with the user's raw scopes.
    """
    db = app.db
    user = orm.User.find(db, username)
    client = orm.Service.find(db, "japps").oauth_client
    required = {*scopes.identify_scopes(), *scopes.access_scopes(client)}
    requested = set(client.allowed_scopes) | required
    held = roles.roles_to_scopes(roles.get_roles_for(user)) | {"inherit", *required}
    allowed, _ = scopes._resolve_requested_scopes(requested, held, user=user, client=client, db=db)
    token = user.new_api_token(scopes=sorted(allowed), oauth_client=client)
    return scopes.get_scopes_for(orm.APIToken.find(db, token))


@pytest.fixture
def hub(c):
    c.JAppsConfig.additional_services = [{"name": "docs", "url": "https://d", "pinned": True}]
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", "read:users:name"]}]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    app = start_hub(c)
    yield app
    app.db.close()


def test_hub_accepts_services(hub):
    assert set(hub._service_map) == {"japps", "docs"}
    assert hub._service_map["docs"].info["pinned"] is True
    japps = hub._service_map["japps"]
    assert japps.managed
    assert japps.oauth_client_id == "service-japps"


def test_client_scopes_exist(hub):
    # an unknown scope here would make every login fail with invalid_scope
    client = orm.Service.find(hub.db, "japps").oauth_client
    scopes._check_scopes_exist(set(client.allowed_scopes))


def test_service_role(hub):
    service = orm.Service.find(hub.db, "japps")
    assert [r.name for r in service.roles] == ["japps-service"]
    held = scopes.get_scopes_for(service)
    for scope in ("list:users", "read:users", "read:groups", "admin:servers", "shares"):
        assert scope in held
    assert "tokens" not in held


def test_users_can_log_in_and_share(hub):
    user = orm.User.find(hub.db, "alice")
    held = scopes.get_scopes_for(user)
    assert "access:services!service=japps" in held
    assert "read:servers!user=alice" in held  # `self` survived the redefinition

    token = login_token_scopes(hub, "alice")
    for scope in (
        "servers!user=alice",
        "shares!user=alice",
        "read:users:name",
        "read:groups:name",
        "read:users:shares!user=alice",
        "access:services!service=japps",
    ):
        assert scope in token
    # the client scopes are unfiltered, yet the token holds only alice's own
    assert "servers" not in token
    assert not [s for s in token if s.endswith("!user=bob")]


def test_without_sharing_scopes_token_cannot_share(c):
    c.JAppsConfig.grant_sharing_scopes = False
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    app = start_hub(c)
    try:
        token = login_token_scopes(app, "alice")
        assert "servers!user=alice" in token
        assert "shares!user=alice" not in token
        assert "read:groups:name" not in token
    finally:
        app.db.close()


def test_hub_starts_the_service_with_its_environment(c, tmp_path, monkeypatch):
    dump = tmp_path / "env.txt"
    fake = tmp_path / "japps"
    fake.write_text(f'#!/bin/sh\necho "$@" > {dump}.args\nenv > {dump}\nexec sleep 60\n')
    fake.chmod(0o755)
    monkeypatch.setenv("RUST_LOG", "japps=debug")
    c.JAppsConfig.japps_bin = str(fake)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    app = start_hub(c)

    async def run():
        service = app._service_map["japps"]
        await service.start()
        try:
            for _ in range(100):
                if dump.exists() and dump.stat().st_size:
                    break
                await asyncio.sleep(0.1)
        finally:
            await service.stop()

    try:
        asyncio.run(run())
    finally:
        app.db.close()
    env = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert (tmp_path / "env.txt.args").read_text().strip() == "serve"
    assert env["RUST_LOG"] == "japps=debug"
    assert json.loads(env["JAPPS_CONFIG"])["japps_bin"] == str(fake)
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/japps/"
    # the session key, created in the hub's working directory (tmp_path)
    key = (tmp_path / "japps_cookie_secret").read_text().strip()
    assert env["JHUB_APP_JWT_SECRET_KEY"] == key

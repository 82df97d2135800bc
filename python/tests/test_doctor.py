"""`python -m japps doctor`: each check on a right and on a wrong configuration."""

import os

import pytest

from japps import doctor

RIGHT = """
from jupyterhub.spawner import SimpleLocalProcessSpawner
from japps import install_jhub_apps
c = get_config()
c.JupyterHub.public_url = "https://hub.example.org"
c.JupyterHub.subdomain_host = "https://hub.example.org"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JAppsConfig.japps_bin = {japps!r}
{before}
install_jhub_apps(c, {spawner})
{after}
"""


def script(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", "k" * 40)
    return tmp_path


def run(hub_dir, capsys, *, before="", after="", spawner="SimpleLocalProcessSpawner",
        version="1.0.0", proxy_shebang="#!/usr/bin/env node"):
    japps = script(hub_dir / "japps", f"#!/bin/sh\necho 'japps {version} (abc)'\n")
    proxy = script(hub_dir / "chp", f"{proxy_shebang}\n")
    config = hub_dir / "jupyterhub_config.py"
    config.write_text(
        RIGHT.format(japps=japps, proxy=proxy, before=before, after=after, spawner=spawner)
    )
    status = doctor.main(["-f", str(config)])
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines():
        level, _, rest = line.partition(" ")
        check, _, message = rest.strip().partition(": ")
        if level in (doctor.OK, doctor.WARN, doctor.FAIL):
            lines.setdefault(check, []).append((level, message))
    return status, lines, out


def levels(lines, check):
    return [level for level, _ in lines[check]]


def test_a_right_configuration_passes_every_check(hub_dir, capsys):
    status, lines, out = run(hub_dir, capsys)
    assert status == 0, out
    for check, found in lines.items():
        assert all(level == doctor.OK for level, _ in found), out
    assert {"installed", "oauth client", "named servers", "sharing", "japps binary", "launcher",
            "session key", "limits", "public URL", "origin", "proxy"} <= set(lines)


def test_no_install_fails(hub_dir, capsys):
    config = hub_dir / "jupyterhub_config.py"
    config.write_text("c = get_config()\n")
    assert doctor.main(["-f", str(config)]) == 1
    assert "FAIL installed" in capsys.readouterr().out


def test_unreadable_config_fails(hub_dir, capsys):
    config = hub_dir / "jupyterhub_config.py"
    config.write_text("c = get_config()\nraise RuntimeError('broken')\n")
    assert doctor.main(["-f", str(config)]) == 1
    assert "FAIL config" in capsys.readouterr().out


def test_narrowed_oauth_client_scopes_fail(hub_dir, capsys):
    after = (
        "for s in c.JupyterHub.services:\n"
        "    if s['name'] == 'japps':\n"
        "        s['oauth_client_allowed_scopes'] = ['read:users:name']"
    )
    status, lines, _ = run(hub_dir, capsys, after=after)
    assert status == 1 and levels(lines, "oauth client") == [doctor.FAIL]


def test_named_servers_turned_off_fails(hub_dir, capsys):
    status, lines, _ = run(hub_dir, capsys, after="c.JupyterHub.allow_named_servers = False")
    assert status == 1 and levels(lines, "named servers") == [doctor.FAIL]


def test_a_low_named_server_limit_warns(hub_dir, capsys):
    status, lines, _ = run(hub_dir, capsys, after="c.JupyterHub.named_server_limit_per_user = 2")
    assert status == 0 and levels(lines, "named servers") == [doctor.WARN]


def test_no_sharing_scopes_warns(hub_dir, capsys):
    status, lines, _ = run(hub_dir, capsys, before="c.JAppsConfig.grant_sharing_scopes = False")
    assert levels(lines, "sharing") == [doctor.WARN]


def test_missing_binary_fails(hub_dir, capsys):
    status, lines, _ = run(
        hub_dir, capsys, after=f"c.JAppsConfig.japps_bin = {str(hub_dir / 'nowhere')!r}"
    )
    assert status == 1 and levels(lines, "japps binary") == [doctor.FAIL]


def test_missing_launcher_fails_for_a_local_spawner(hub_dir, capsys):
    status, lines, _ = run(
        hub_dir, capsys, before=f"c.JAppsConfig.launcher_bin = {str(hub_dir / 'nowhere')!r}"
    )
    assert status == 1 and levels(lines, "launcher") == [doctor.FAIL]


def test_a_launcher_of_another_version_warns(hub_dir, capsys):
    other = script(hub_dir / "old-japps", "#!/bin/sh\necho 'japps 0.0.1 (old)'\n")
    status, lines, _ = run(hub_dir, capsys, before=f"c.JAppsConfig.launcher_bin = {other!r}")
    assert status == 0 and levels(lines, "launcher") == [doctor.WARN]


def test_kubespawner_launcher_is_in_the_image_or_the_launcher_image(hub_dir, capsys):
    pytest.importorskip("kubespawner")
    status, lines, _ = run(hub_dir, capsys, spawner="'kubespawner.KubeSpawner'")
    assert levels(lines, "launcher") == [doctor.WARN]
    status, lines, _ = run(
        hub_dir, capsys, spawner="'kubespawner.KubeSpawner'",
        before="c.JAppsConfig.launcher_image = 'example/japps-launcher:1'",
    )
    assert levels(lines, "launcher") == [doctor.OK]


def test_a_short_session_key_fails(hub_dir, capsys, monkeypatch):
    monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", "short")
    status, lines, _ = run(hub_dir, capsys)
    assert status == 1 and levels(lines, "session key") == [doctor.FAIL]


def test_session_key_file_missing_or_open_warns(hub_dir, capsys, monkeypatch):
    monkeypatch.delenv("JHUB_APP_JWT_SECRET_KEY")
    status, lines, _ = run(hub_dir, capsys)
    assert levels(lines, "session key") == [doctor.WARN]  # created at the first start
    key = hub_dir / "japps_cookie_secret"
    key.write_text("x" * 64)
    key.chmod(0o644)
    status, lines, _ = run(hub_dir, capsys)
    assert levels(lines, "session key") == [doctor.WARN]
    key.chmod(0o600)
    status, lines, out = run(hub_dir, capsys)
    assert levels(lines, "session key") == [doctor.OK], out


@pytest.mark.parametrize(
    "body,level",
    [("return ['env-a']", doctor.OK), ("raise KeyError('x')", doctor.FAIL),
     ("return {'a': 1}", doctor.FAIL)],
)
def test_callables_are_evaluated(hub_dir, capsys, body, level):
    before = f"def envs(user):\n    {body}\nc.JAppsConfig.conda_envs = envs"
    status, lines, out = run(hub_dir, capsys, before=before)
    assert levels(lines, "callables") == [level], out
    assert status == (1 if level == doctor.FAIL else 0)


def test_large_thumbnails_warn(hub_dir, capsys):
    status, lines, _ = run(hub_dir, capsys, before="c.JAppsConfig.thumbnail_max_bytes = 50_000_000")
    assert levels(lines, "limits") == [doctor.WARN]


def test_plain_http_public_url_warns(hub_dir, capsys):
    status, lines, _ = run(hub_dir, capsys, after="c.JupyterHub.public_url = 'http://hub.example.org'")
    assert levels(lines, "public URL") == [doctor.WARN]


def test_single_origin_warns(hub_dir, capsys):
    status, lines, out = run(hub_dir, capsys, after="c.JupyterHub.subdomain_host = ''")
    assert levels(lines, "origin") == [doctor.WARN]
    assert "shares the hub's origin" in out
    assert "c.JupyterHub.subdomain_host" in out and "per-user subdomains" in out


def test_subdomains_are_the_fix(hub_dir, capsys):
    status, lines, out = run(hub_dir, capsys, after="c.JupyterHub.subdomain_host = 'https://hub.example.org'")
    assert levels(lines, "origin") == [doctor.OK]


def test_pure_python_proxy_warns(hub_dir, capsys):
    status, lines, _ = run(hub_dir, capsys, proxy_shebang="#!/usr/bin/python3")
    assert levels(lines, "proxy") == [doctor.WARN]


def test_doctor_creates_nothing(hub_dir, capsys, monkeypatch):
    monkeypatch.delenv("JHUB_APP_JWT_SECRET_KEY")
    before = set(os.listdir(hub_dir))
    run(hub_dir, capsys)
    assert set(os.listdir(hub_dir)) == before | {"japps", "chp", "jupyterhub_config.py"}


# --- an external service (c.JAppsConfig.service_url) ---

SERVICE_TOKEN = "svc-token-" + "t" * 30
# The hub runs no japps: japps_bin need not exist, the launcher still must.
EXTERNAL = (
    "c.JAppsConfig.launcher_bin = c.JAppsConfig.japps_bin\n"
    "c.JAppsConfig.japps_bin = '/nowhere/japps'\n"
    "c.JAppsConfig.service_url = 'http://japps:10202'"
)


def test_external_service_skips_the_binary_and_checks_the_token(hub_dir, capsys):
    before = f"{EXTERNAL}\nc.JAppsConfig.service_api_token = {SERVICE_TOKEN!r}"
    status, lines, out = run(hub_dir, capsys, before=before)
    assert status == 0, out
    assert lines["japps binary"] == [
        (doctor.OK, "external service at http://japps:10202: the hub does not run japps")
    ]
    assert levels(lines, "service token") == [doctor.OK]
    assert levels(lines, "launcher") == [doctor.OK]
    assert SERVICE_TOKEN not in out


def test_external_service_token_from_the_environment(hub_dir, capsys, monkeypatch):
    monkeypatch.setenv("JAPPS_SERVICE_API_TOKEN", SERVICE_TOKEN)
    status, lines, out = run(hub_dir, capsys, before=EXTERNAL)
    assert status == 0, out
    assert levels(lines, "service token") == [doctor.OK]


@pytest.mark.parametrize("token", ["", "tok-7ch", "t" * 65])
def test_external_service_without_a_good_token_fails(hub_dir, capsys, token):
    before = f"{EXTERNAL}\nc.JAppsConfig.service_api_token = {token!r}"
    status, lines, out = run(hub_dir, capsys, before=before)
    assert status == 1
    assert levels(lines, "service token") == [doctor.FAIL]
    assert "JAPPS_SERVICE_API_TOKEN" in out
    if token:
        assert token not in out


def test_managed_service_has_no_token_check(hub_dir, capsys):
    _, lines, _ = run(hub_dir, capsys)
    assert "service token" not in lines


def test_external_service_without_a_session_key_warns(hub_dir, capsys, monkeypatch):
    monkeypatch.delenv("JHUB_APP_JWT_SECRET_KEY")
    before = f"{EXTERNAL}\nc.JAppsConfig.service_api_token = {SERVICE_TOKEN!r}"
    _, lines, out = run(hub_dir, capsys, before=before)
    assert levels(lines, "session key") == [doctor.WARN]
    assert "service-env" in out and "every replica" in out
    assert not (hub_dir / "japps_cookie_secret").exists()

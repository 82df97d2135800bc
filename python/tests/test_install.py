import json
import logging

import pytest
from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets.config import LazyConfigValue

from helpers import japps_config, japps_service, role
from japps import install_jhub_apps

SERVICE_SCOPES = [
    "list:users",
    "read:users",
    "list:groups",
    "read:groups",
    "admin:servers",
    "admin:auth_state",
    "list:services",
    "read:services",
    "shares",
]
CLIENT_SCOPES = ["servers", "shares", "read:users:name", "read:groups:name", "read:users:shares"]
USER_SCOPES = [
    "self",
    "access:services!service=japps",
    "shares!user",
    "read:users:name",
    "read:groups:name",
]


def test_returns_c_and_sets_hub_options(c):
    assert install_jhub_apps(c, SimpleLocalProcessSpawner) is c
    assert c.JupyterHub.allow_named_servers is True
    assert c.JupyterHub.spawner_class is SimpleLocalProcessSpawner


def test_service_spec(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    service = japps_service(c)
    assert list(service["environment"]) == ["JAPPS_CONFIG"]
    assert {k: v for k, v in service.items() if k != "environment"} == {
        "name": "japps",
        "url": "http://127.0.0.1:10202",
        "command": ["japps", "serve"],
        "oauth_no_confirm": False,
        "display": False,
        "oauth_client_allowed_scopes": CLIENT_SCOPES,
    }


def test_service_spec_follows_config(c):
    c.JAppsConfig.hub_host = "hub"
    c.JAppsConfig.service_port = 8765
    c.JAppsConfig.japps_bin = "/opt/japps/bin/japps"
    install_jhub_apps(c, SimpleLocalProcessSpawner, oauth_no_confirm=True)
    service = japps_service(c)
    assert service["url"] == "http://hub:8765"
    assert service["command"] == ["/opt/japps/bin/japps", "serve"]
    assert service["oauth_no_confirm"] is True


def test_ipv6_hub_host_is_bracketed(c):
    c.JAppsConfig.hub_host = "::1"
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_service(c)["url"] == "http://[::1]:10202"


def test_start_servers_is_never_requested(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    role_scopes = [s for r in c.JupyterHub.load_roles for s in r["scopes"]]
    every_scope = role_scopes + japps_service(c)["oauth_client_allowed_scopes"]
    assert not [s for s in every_scope if s.startswith("start:servers")]
    assert "tokens" not in role(c, "japps-service")["scopes"]


def test_existing_services_are_kept(c):
    other = {"name": "idle-culler", "command": ["cull"]}
    c.JupyterHub.services = [other]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.services[0] == other
    assert [s["name"] for s in c.JupyterHub.services] == ["idle-culler", "japps"]


def test_services_appended_lazily_are_kept(c):
    c.JupyterHub.services.append({"name": "idle-culler", "command": ["cull"]})
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert [s["name"] for s in c.JupyterHub.services] == ["idle-culler", "japps"]
    assert isinstance(c.JupyterHub.services, list)


def test_additional_services_become_hub_services(c):
    c.JAppsConfig.additional_services = [
        {"name": "Docs", "url": "https://docs.example.org", "pinned": True, "description": "d"}
    ]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.services[-1] == {
        "name": "Docs",
        "display": True,
        "info": {
            "name": "Docs",
            "description": "d",
            "url": "https://docs.example.org",
            "external": True,
            "pinned": True,
            "thumbnail": None,
        },
    }


def test_additional_service_cannot_take_the_japps_name(c):
    c.JAppsConfig.additional_services = [{"name": "japps", "url": "https://x"}]
    with pytest.raises(ValueError, match="unique"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)


# --- JAPPS_CONFIG -------------------------------------------------------------


def test_japps_config_round_trips(c):
    c.JAppsConfig.conda_envs = ["base", "gpu"]
    c.JAppsConfig.allowed_frameworks = ["panel"]
    c.JAppsConfig.startup_apps = [
        {"username": "u", "servername": "s", "user_options": {"display_name": "S"}}
    ]
    c.JAppsConfig.banners = {"top": {"text": "hello", "background": "red"}}
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    text = japps_service(c)["environment"]["JAPPS_CONFIG"]
    data = json.loads(text)

    # compact and sorted, so the same config always gives the same string
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert data == {
        "additional_services": [],
        "allowed_frameworks": ["panel"],
        "app_icon": "https://jupyter.org/assets/homepage/main-logo.svg",
        "app_title": "JHub Apps Launcher",
        "apps_auth_type": "oauth",
        "banners": {"bottom": {"text": ""}, "top": {"background": "red", "text": "hello"}},
        "blocked_frameworks": None,
        "callables": [],
        "conda_envs": ["base", "gpu"],
        "grant_sharing_scopes": True,
        "hub_host": "127.0.0.1",
        "japps_bin": "japps",
        "jhub_app_proxy_version": "v0.2.2",
        "jupyterhub_config_path": "jupyterhub_config.py",
        "python_exec": "python",
        "service_port": 10202,
        "service_workers": 2,
        "startup_apps": [
            {"servername": "s", "user_options": {"display_name": "S"}, "username": "u"}
        ],
    }


def test_callables_are_listed_not_serialised(c):
    c.JAppsConfig.conda_envs = lambda user: ["base"]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    data = japps_config(c)
    assert data["callables"] == ["conda_envs"]
    assert "conda_envs" not in data


def test_non_json_value_is_a_clear_error(c):
    c.JAppsConfig.startup_apps = [
        {"username": "u", "servername": "s", "user_options": {"when": object()}}
    ]
    with pytest.raises(ValueError, match="startup_apps"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)


def test_oversized_config_is_a_clear_error(c):
    big = "data:image/png;base64," + "A" * 200_000
    c.JAppsConfig.additional_services = [{"name": "x", "url": "https://x", "thumbnail": big}]
    with pytest.raises(ValueError, match="environment variable"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)


def test_template_vars_not_set(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "template_vars" not in japps_config(c)


def test_template_vars_placeholder_counts_as_not_set(c):
    # merely reading c.JupyterHub.template_vars leaves an empty placeholder
    assert isinstance(c.JupyterHub.template_vars, LazyConfigValue)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "template_vars" not in japps_config(c)


def test_template_vars_keep_json_values_only(c, caplog):
    c.JupyterHub.template_vars = {
        "logo": "/static/logo.svg",
        "primary_color": "#123456",
        "per_user": lambda user: user.name,
    }
    with caplog.at_level(logging.INFO, logger="JupyterHub.japps"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_config(c)["template_vars"] == {
        "logo": "/static/logo.svg",
        "primary_color": "#123456",
    }
    assert "per_user" in caplog.text


def test_template_vars_set_by_update(c):
    c.JupyterHub.template_vars.update({"logo": "/l.svg"})
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_config(c)["template_vars"] == {"logo": "/l.svg"}


def test_static_profile_list(c):
    profiles = [{"display_name": "Small", "slug": "small", "default": True}]
    c.KubeSpawner.profile_list = profiles
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    data = japps_config(c)
    assert data["profile_list"] == profiles
    assert data["callables"] == []


def test_callable_profile_list(c):
    async def profiles(spawner):
        return []

    c.KubeSpawner.profile_list = profiles
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    data = japps_config(c)
    assert "profile_list" not in data
    assert data["callables"] == ["profile_list"]


def test_profile_list_not_set(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "profile_list" not in japps_config(c)
    # reading it must not have created a KubeSpawner section
    assert "KubeSpawner" not in c


def test_profile_list_with_objects_is_left_to_python(c):
    c.KubeSpawner.profile_list = [{"slug": "s", "kubespawner_override": {"x": object()}}]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    data = japps_config(c)
    assert "profile_list" not in data
    assert data["callables"] == ["profile_list"]


# --- environment --------------------------------------------------------------


def test_env_passed_through_when_set(c, monkeypatch):
    monkeypatch.setenv("RUST_LOG", "japps=debug")
    monkeypatch.setenv("JAPPS_LOG_FORMAT", "json")
    monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", "s3cret-value")
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    env = japps_service(c)["environment"]
    assert env["RUST_LOG"] == "japps=debug"
    assert env["JAPPS_LOG_FORMAT"] == "json"
    assert env["JHUB_APP_JWT_SECRET_KEY"] == "s3cret-value"


def test_env_not_invented_when_unset(c, monkeypatch):
    monkeypatch.setenv("RUST_LOG", "info")
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert sorted(japps_service(c)["environment"]) == ["JAPPS_CONFIG", "RUST_LOG"]


def test_secret_is_never_logged(c, monkeypatch, caplog):
    monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", "s3cret-value")
    monkeypatch.setenv("PATH", "")  # japps_bin not found: a warning is logged
    with caplog.at_level(logging.DEBUG):
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "not an executable" in caplog.text
    assert "s3cret-value" not in caplog.text


# --- roles --------------------------------------------------------------------


def test_roles_on_empty_config(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.load_roles == [
        {"name": "japps-service", "scopes": SERVICE_SCOPES, "services": ["japps"]},
        {"name": "user", "scopes": USER_SCOPES},
    ]


def test_without_sharing_scopes(c):
    c.JAppsConfig.grant_sharing_scopes = False
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert role(c, "user")["scopes"] == ["self", "access:services!service=japps"]


def test_existing_user_role_is_merged(c):
    c.JupyterHub.load_roles = [
        {"name": "admins", "scopes": ["admin:users"], "users": ["root"]},
        {"name": "user", "scopes": ["self", "read:users:name", "custom:thing"]},
    ]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.load_roles[0] == {
        "name": "admins",
        "scopes": ["admin:users"],
        "users": ["root"],
    }
    assert role(c, "user")["scopes"] == [
        "self",
        "read:users:name",
        "custom:thing",
        "access:services!service=japps",
        "shares!user",
        "read:groups:name",
    ]


def test_existing_user_role_without_self_is_not_widened(c):
    # the admin chose to drop `self`; japps adds only its own scopes
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["read:servers!user"]}]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "self" not in role(c, "user")["scopes"]


def test_user_role_without_scopes_keeps_default_self(c):
    # a spec without scopes inherits the default role's ["self"] in the hub
    c.JupyterHub.load_roles = [{"name": "user", "description": "everyone"}]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert role(c, "user") == {"name": "user", "description": "everyone", "scopes": USER_SCOPES}


def test_extra_user_scopes_survive_the_user_role(c):
    # 6.x ignores extra_user_scopes once load_roles defines `user`
    c.JupyterHub.extra_user_scopes = {"read:groups:name", "custom:a"}
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert role(c, "user")["scopes"] == [
        "self",
        "custom:a",
        "read:groups:name",
        "access:services!service=japps",
        "shares!user",
        "read:users:name",
    ]


def test_existing_config_objects_are_not_mutated(c):
    user_role = {"name": "user", "scopes": ["self"]}
    c.JupyterHub.load_roles = [user_role]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert user_role == {"name": "user", "scopes": ["self"]}


def test_roles_appended_lazily_are_kept(c):
    c.JupyterHub.load_roles.append({"name": "extra", "scopes": ["read:hub"]})
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert [r["name"] for r in c.JupyterHub.load_roles] == ["extra", "japps-service", "user"]


def test_idempotent(c):
    c.JAppsConfig.additional_services = [{"name": "Docs", "url": "https://d"}]
    c.JupyterHub.services = [{"name": "other", "url": "http://127.0.0.1:9999"}]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    services = [dict(s) for s in c.JupyterHub.services]
    roles = [dict(r) for r in c.JupyterHub.load_roles]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.services == services
    assert c.JupyterHub.load_roles == roles
    assert [s["name"] for s in services] == ["other", "japps", "Docs"]

import json
import logging
import os
import re
import stat
import sys
import traceback

import pytest
from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets.config import LazyConfigValue
from traitlets.config.loader import PyFileConfigLoader

from helpers import japps_config, japps_service, role
from japps import install, install_jhub_apps

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
    # the admin's spawner, wrapped to run apps with `japps launch` (test_spawner.py)
    assert issubclass(c.JupyterHub.spawner_class, SimpleLocalProcessSpawner)
    assert c.JupyterHub.spawner_class._japps_base is SimpleLocalProcessSpawner


def test_service_learns_the_hubs_cookie_host_prefix(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    prefix = japps_service(c)["environment"]["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"]
    hub = lambda name: type("S", (), {"hub": type("H", (), {"cookie_name": name})()})()  # noqa: E731
    assert prefix(hub("__Host-jupyterhub-hub-login")) == "1"
    assert prefix(hub("jupyterhub-hub-login")) == "0"


def test_subdomains_keep_japps_on_the_hubs_host(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    hook = c.JupyterHub.subdomain_hook
    assert hook("japps", "hub.example.org", "service") == "hub.example.org"
    assert hook("other", "hub.example.org", "service") == "other--service.hub.example.org"
    assert hook("alice", "hub.example.org", "user") == "alice.hub.example.org"
    # A second call wraps the operator's hook, not ours.
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.subdomain_hook("alice", "hub.example.org", "user") == "alice.hub.example.org"


def test_service_spec(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    service = japps_service(c)
    assert list(service["environment"]) == [
        "JAPPS_CONFIG",
        "JAPPS_PYTHON",
        "JHUB_APP_JWT_SECRET_KEY",
        "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED",
    ]
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


def test_japps_config_round_trips(c, work_dir):
    c.JAppsConfig.conda_envs = ["base", "gpu"]
    c.JAppsConfig.allowed_frameworks = ["panel"]
    c.JAppsConfig.startup_apps = [
        {"username": "u", "servername": "s", "user_options": {"display_name": "S"}}
    ]
    c.JAppsConfig.banners = {"top": {"text": "hello", "background": "red"}}
    c.JAppsConfig.identity_cache_max_age = 60
    c.JAppsConfig.thumbnail_max_bytes = 2 * 1024 * 1024
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    text = japps_service(c)["environment"]["JAPPS_CONFIG"]
    data = json.loads(text)

    # compact and sorted, so the same config always gives the same string
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert data == {
        "additional_services": [],
        "allow_keep_alive": True,
        "allow_local_git_repositories": False,
        "allow_public_apps": True,
        "allowed_frameworks": ["panel"],
        "app_icon": "https://jupyter.org/assets/homepage/main-logo.svg",
        "app_title": "JHub Apps Launcher",
        "apps_auth_type": "oauth",
        "banners": {"bottom": {"text": ""}, "top": {"background": "red", "text": "hello"}},
        "blocked_frameworks": None,
        "callable_cache_seconds": 60,
        "shared_app_cache_seconds": 60,
        "templates_dir": "",
        "callables": [],
        "conda_envs": ["base", "gpu"],
        "cookie_secret_file": "japps_cookie_secret",
        "allow_profile_image": False,
        "git_clone_max_bytes": 100 * 1024 * 1024,
        "git_allowed_hosts": [],
        "git_allow_private_addresses": False,
        "git_clone_timeout": 60,
        "grant_sharing_scopes": True,
        "keep_hub_home": False,
        "hub_host": "127.0.0.1",
        "identity_cache_max_age": 60,
        "japps_bin": "japps",
        "jhub_app_proxy_version": "v0.2.2",
        "launcher_args": [],
        "launcher_args_final": True,
        "launcher_bin": "japps",
        "launcher_image": "",
        "max_share_targets": 100,
        "jupyterhub_config_path": str(work_dir / "jupyterhub_config.py"),
        "python_exec": "python",
        "service_port": 10202,
        "service_workers": 2,
        "startup_apps": [
            {"servername": "s", "user_options": {"display_name": "S"}, "username": "u"}
        ],
        "thumbnail_max_bytes": 2 * 1024 * 1024,
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
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    env = japps_service(c)["environment"]
    assert env["RUST_LOG"] == "japps=debug"
    assert env["JAPPS_LOG_FORMAT"] == "json"


def test_env_not_invented_when_unset(c, monkeypatch):
    monkeypatch.setenv("RUST_LOG", "info")
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert sorted(japps_service(c)["environment"]) == [
        "JAPPS_CONFIG",
        "JAPPS_PYTHON",
        "JHUB_APP_JWT_SECRET_KEY",
        "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED",
        "RUST_LOG",
    ]


# --- session key --------------------------------------------------------------

SECRET = "s3cret-value-" + "x" * 40


def session_key(c):
    return japps_service(c)["environment"]["JHUB_APP_JWT_SECRET_KEY"]


def write_key_file(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)


def test_key_file_created_when_missing(c, work_dir):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    path = work_dir / "japps_cookie_secret"
    key = session_key(c)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_reused(c, work_dir):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    first = session_key(c)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert session_key(c) == first
    # a new config, as after a hub restart
    other = type(c)()
    install_jhub_apps(other, SimpleLocalProcessSpawner)
    assert session_key(other) == first


def test_existing_key_file_is_read_stripped(c, work_dir):
    write_key_file(work_dir / "japps_cookie_secret", f"  {SECRET}\n\n")
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert session_key(c) == SECRET


def test_env_key_wins_over_the_file(c, work_dir, monkeypatch):
    monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", SECRET)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert session_key(c) == SECRET
    assert not (work_dir / "japps_cookie_secret").exists()

    write_key_file(work_dir / "japps_cookie_secret", "f" * 64)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert session_key(c) == SECRET


def test_empty_env_key_counts_as_unset(c, work_dir, monkeypatch):
    # as in the service, which treats an empty variable as unset
    monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", "")
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert session_key(c) == (work_dir / "japps_cookie_secret").read_text().strip()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620])
def test_key_file_open_to_others_is_refused(c, work_dir, mode):
    path = work_dir / "japps_cookie_secret"
    write_key_file(path, SECRET, mode)
    with pytest.raises(ValueError, match="group or others") as err:
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert str(path) in str(err.value)
    assert SECRET not in str(err.value)


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), (" \n", "empty"), ("a" * 31, "fewer than 32"), (b"\xff" * 40, "UTF-8")],
)
def test_bad_key_file_is_refused(c, work_dir, text, message):
    path = work_dir / "japps_cookie_secret"
    if isinstance(text, bytes):
        path.write_bytes(text)
        path.chmod(0o600)
    else:
        write_key_file(path, text)
    with pytest.raises(ValueError, match=message) as err:
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert str(path) in str(err.value)
    # neither the content nor a chained error quoting it
    shown = "".join(traceback.format_exception(err.value))
    assert "aaaa" not in shown
    assert "xff" not in shown


def test_key_file_of_32_chars_is_enough(c, work_dir):
    write_key_file(work_dir / "japps_cookie_secret", "k" * 32)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert session_key(c) == "k" * 32


def test_relative_key_file_is_relative_to_cwd(c, tmp_path, monkeypatch):
    hub_dir = tmp_path / "hub"
    (hub_dir / "state").mkdir(parents=True)
    monkeypatch.chdir(hub_dir)
    c.JAppsConfig.cookie_secret_file = "state/key"
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert (hub_dir / "state" / "key").read_text().strip() == session_key(c)
    # the setting travels as given
    assert japps_config(c)["cookie_secret_file"] == "state/key"


def test_absolute_key_file(c, tmp_path):
    path = tmp_path / "elsewhere" / "key"
    path.parent.mkdir()
    c.JAppsConfig.cookie_secret_file = str(path)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert path.read_text().strip() == session_key(c)


def test_key_file_in_missing_directory_is_a_clear_error(c, work_dir):
    c.JAppsConfig.cookie_secret_file = "no/such/dir/key"
    with pytest.raises(ValueError, match=r"cannot create .*no/such/dir/key"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)


def test_key_file_not_created_group_readable_under_a_loose_umask(c, work_dir):
    old = os.umask(0)
    try:
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    finally:
        os.umask(old)
    assert stat.S_IMODE((work_dir / "japps_cookie_secret").stat().st_mode) == 0o600


@pytest.mark.parametrize("source", ["env", "new file", "existing file"])
def test_secret_is_never_logged(c, work_dir, monkeypatch, caplog, source):
    if source == "env":
        monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", SECRET)
    elif source == "existing file":
        write_key_file(work_dir / "japps_cookie_secret", SECRET)
    monkeypatch.setenv("PATH", "")  # japps_bin not found: a warning is logged
    with caplog.at_level(logging.DEBUG):
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "not an executable" in caplog.text
    key = session_key(c)
    if source == "new file":
        assert "created the session key file" in caplog.text
    else:
        assert key == SECRET
    assert key not in caplog.text
    assert key not in japps_service(c)["environment"]["JAPPS_CONFIG"]


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


# --- evaluating callables in the service --------------------------------------


def test_the_hub_python_is_passed_to_the_service(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_service(c)["environment"]["JAPPS_PYTHON"] == sys.executable


def test_pythonpath_is_passed_through(c, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/opt/site")
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_service(c)["environment"]["PYTHONPATH"] == "/opt/site"


def test_config_path_is_made_absolute_from_the_working_directory(c, work_dir):
    c.JAppsConfig.jupyterhub_config_path = "conf/hub_config.py"
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_config(c)["jupyterhub_config_path"] == str(work_dir / "conf/hub_config.py")


def test_absolute_config_path_is_kept(c):
    c.JAppsConfig.jupyterhub_config_path = "/etc/jupyterhub/jupyterhub_config.py"
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    path = japps_config(c)["jupyterhub_config_path"]
    assert path == "/etc/jupyterhub/jupyterhub_config.py"


def _load_config_file(path):
    loader = PyFileConfigLoader(path.name, path=str(path.parent))
    return loader.load_config()


CALLING_CONFIG = """\
from jupyterhub.spawner import SimpleLocalProcessSpawner
from japps import install, install_jhub_apps
c = get_config()  # noqa: F821
{extra}
install_jhub_apps(c, SimpleLocalProcessSpawner)
"""


def test_without_a_path_the_calling_config_file_is_used(tmp_path):
    # `jupyterhub -f /elsewhere/jupyterhub_config.py` run from the working directory.
    config_file = tmp_path / "elsewhere" / "my_hub_config.py"
    config_file.parent.mkdir()
    config_file.write_text(CALLING_CONFIG.format(extra=""))
    c = _load_config_file(config_file)
    assert japps_config(c)["jupyterhub_config_path"] == str(config_file)


def test_an_explicit_path_wins_over_the_calling_file(tmp_path, work_dir):
    config_file = tmp_path / "elsewhere" / "my_hub_config.py"
    config_file.parent.mkdir()
    extra = "c.JAppsConfig.jupyterhub_config_path = 'real_config.py'"
    config_file.write_text(CALLING_CONFIG.format(extra=extra))
    c = _load_config_file(config_file)
    assert japps_config(c)["jupyterhub_config_path"] == str(work_dir / "real_config.py")


def test_evaluation_mode_creates_no_key_file(c, work_dir, monkeypatch, caplog):
    monkeypatch.setenv("JAPPS_EVALUATE", "1")
    with caplog.at_level(logging.INFO, logger="JupyterHub.japps"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    service = japps_service(c)
    assert "JHUB_APP_JWT_SECRET_KEY" not in service["environment"]
    assert list(work_dir.iterdir()) == []
    assert not caplog.records, "no warnings about the binary, no key file messages"
    # Everything else is as in the hub, so config code after the call still works.
    assert japps_config(c)["callables"] == []
    assert role(c, "japps-service")


# --- the hub's pages ---------------------------------------------------------------------


class _Handler:
    def __init__(self, base_url):
        self.base_url = base_url


def test_templates_and_landing_installed(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.template_paths == [install.LANDING_TEMPLATES, install.HUB_TEMPLATES]
    for path in c.JupyterHub.template_paths:
        assert os.path.isdir(path)
    assert os.path.isfile(os.path.join(install.HUB_TEMPLATES, "page.html"))
    assert os.path.isfile(os.path.join(install.HUB_TEMPLATES, "not_running.html"))
    assert os.path.isfile(os.path.join(install.LANDING_TEMPLATES, "home.html"))
    landing = c.JupyterHub.default_url
    assert landing(_Handler("/")) == "/services/japps/"
    assert landing(_Handler("/prefix/")) == "/prefix/services/japps/"


def test_templates_prepended_to_the_operators(c):
    c.JupyterHub.template_paths = ["/srv/mine"]
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.template_paths == [
        install.LANDING_TEMPLATES,
        install.HUB_TEMPLATES,
        "/srv/mine",
    ]
    # Set afterwards, the operator's own come first.
    c.JupyterHub.template_paths.insert(0, "/srv/later")
    assert c.JupyterHub.template_paths[0] == "/srv/later"


def test_templates_appended_lazily_are_kept(c):
    c.JupyterHub.template_paths.append("/srv/mine")
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.template_paths[-1] == "/srv/mine"
    assert c.JupyterHub.template_paths[0] == install.LANDING_TEMPLATES


def test_keep_hub_home(c):
    c.JAppsConfig.keep_hub_home = True
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.template_paths == [install.HUB_TEMPLATES]
    assert "default_url" not in c.JupyterHub


def test_operators_default_url_is_kept(c):
    c.JupyterHub.default_url = "/hub/admin"
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.default_url == "/hub/admin"


@pytest.mark.parametrize("url", ["/hub/home", "/hub/home/", "/hub/"])
def test_jhub_apps_default_url_becomes_the_launcher(c, url):
    c.JupyterHub.default_url = url
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.default_url(_Handler("/")) == "/services/japps/"


# --- the proxy -----------------------------------------------------------------


def _script(path, first_line):
    path.write_text(first_line + "\n")
    path.chmod(0o755)
    return str(path)


def test_pure_python_proxy_is_named_in_a_warning(c, tmp_path, caplog):
    c.ConfigurableHTTPProxy.command = [_script(tmp_path / "chp", "#!/usr/bin/python3")]
    with caplog.at_level(logging.WARNING, logger="JupyterHub.japps"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "pure-Python configurable-http-proxy" in caplog.text
    assert str(tmp_path / "chp") in caplog.text


@pytest.mark.parametrize(
    "setting",
    [
        {"command": "node"},
        {"command": "missing"},
        {"command": "python", "proxy_class": "traefik"},
    ],
)
def test_other_proxies_are_not_warned_about(c, tmp_path, caplog, setting):
    scripts = {
        "node": _script(tmp_path / "chp", "#!/usr/bin/env node"),
        "python": _script(tmp_path / "pychp", "#!/usr/bin/python3"),
        "missing": str(tmp_path / "nowhere"),
    }
    c.ConfigurableHTTPProxy.command = [scripts[setting["command"]]]
    if "proxy_class" in setting:
        c.JupyterHub.proxy_class = setting["proxy_class"]
    with caplog.at_level(logging.WARNING, logger="JupyterHub.japps"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "configurable-http-proxy" not in caplog.text


def test_default_proxy_is_looked_up_on_path(c, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    _script(tmp_path / "configurable-http-proxy", "#!/opt/hub/bin/python")
    assert install.python_proxy(c) == str(tmp_path / "configurable-http-proxy")
    _script(tmp_path / "configurable-http-proxy", "#!/usr/bin/env node")
    assert install.python_proxy(c) is None


# --- coming from jhub-apps -----------------------------------------------------

JHUB_APPS_CONFIG = """
from jupyterhub.spawner import SimpleLocalProcessSpawner
from jhub_apps import theme_template_paths
from jhub_apps.configuration import install_jhub_apps

c = get_config()
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.default_url = "/hub/home"
c.JupyterHub.template_paths = theme_template_paths
c.JAppsConfig.jupyterhub_config_path = "jupyterhub_config.py"
c.JAppsConfig.conda_envs = []
c.JupyterHub.template_vars = {"hub_title": "Hub"}
c = install_jhub_apps(c, spawner_to_subclass=SimpleLocalProcessSpawner)
"""


def test_a_jhub_apps_config_loads_with_the_import_changed(tmp_path):
    path = tmp_path / "jupyterhub_config.py"
    path.write_text(JHUB_APPS_CONFIG.replace("from jhub_apps", "from japps"))
    config = PyFileConfigLoader(path.name, str(tmp_path)).load_config()
    hub = config.JupyterHub
    assert hub.spawner_class.__name__ == "JAppsSpawner"
    assert any(s["name"] == "japps" for s in hub.services)
    assert hub.template_paths[:2] == [install.LANDING_TEMPLATES, install.HUB_TEMPLATES]


# --- where the service listens -----------------------------------------------


@pytest.mark.parametrize(
    "hub_host,bind",
    [("127.0.0.1", None), ("localhost", None), ("hub", "http://0.0.0.0:10202"),
     ("10.0.0.7", "http://0.0.0.0:10202")],
)
def test_the_service_listens_on_every_interface_unless_local(c, work_dir, hub_host, bind):
    c.JAppsConfig.hub_host = hub_host
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    service = japps_service(c)
    assert service["url"].startswith(f"http://{hub_host}:")
    assert service["environment"].get("JAPPS_BIND_URL") == bind

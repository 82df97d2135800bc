import textwrap

import pytest
from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import TraitError
from traitlets.config import Config, PyFileConfigLoader

from helpers import japps_config
from japps import JAppsConfig, install_jhub_apps

JHUB_APPS_DEFAULTS = {
    "apps_auth_type": "oauth",
    "python_exec": "python",
    "app_title": "JHub Apps Launcher",
    "app_icon": "https://jupyter.org/assets/homepage/main-logo.svg",
    "conda_envs": [],
    "jupyterhub_config_path": "jupyterhub_config.py",
    "hub_host": "127.0.0.1",
    "service_workers": 2,
    "allowed_frameworks": None,
    "blocked_frameworks": None,
    "startup_apps": [],
    "jhub_app_proxy_version": "v0.2.2",
    "additional_services": [],
    "banners": {"top": {"text": ""}, "bottom": {"text": ""}},
}
JAPPS_DEFAULTS = {
    "japps_bin": "japps",
    "launcher_bin": "japps",
    "launcher_args": [],
    "launcher_image": "",
    "service_port": 10202,
    "service_url": "",
    "service_api_token": "",
    "grant_sharing_scopes": True,
    "keep_hub_home": False,
    "identity_cache_max_age": 300,
    "callable_cache_seconds": 60,
    "shared_app_cache_seconds": 60,
    "templates_dir": "",
    "cookie_secret_file": "japps_cookie_secret",
    "thumbnail_max_bytes": 5 * 1024 * 1024,
    "allow_local_git_repositories": False,
    "allow_profile_image": False,
    "git_allowed_hosts": [],
    "git_allow_private_addresses": False,
    "git_clone_timeout": 60,
    "git_clone_max_bytes": 100 * 1024 * 1024,
    "max_share_targets": 100,
    "allow_public_apps": True,
    "allow_keep_alive": True,
    "launcher_args_final": True,
}


def test_defaults_of_every_trait(c):
    cfg = JAppsConfig(config=c)
    expected = {**JHUB_APPS_DEFAULTS, **JAPPS_DEFAULTS}
    assert {n: getattr(cfg, n) for n in cfg.trait_names(config=True)} == expected


def test_every_trait_has_help():
    traits = JAppsConfig.class_traits(config=True)
    assert [n for n, t in traits.items() if not t.help] == []


def test_mutable_defaults_are_not_shared(c):
    a, b = JAppsConfig(config=c), JAppsConfig(config=c)
    a.banners["top"]["text"] = "changed"
    a.conda_envs.append("x")
    assert b.banners["top"]["text"] == ""
    assert b.conda_envs == []


UNCHANGED_JHUB_APPS_CONFIG = textwrap.dedent(
    """
    def get_conda_envs(user):
        return ["env-" + user["name"]]

    c.JAppsConfig.apps_auth_type = "none"
    c.JAppsConfig.python_exec = "/opt/conda/bin/python"
    c.JAppsConfig.app_title = "My Apps"
    c.JAppsConfig.app_icon = "https://example.org/icon.svg"
    c.JAppsConfig.conda_envs = get_conda_envs
    c.JAppsConfig.jupyterhub_config_path = "/etc/jupyterhub/jupyterhub_config.py"
    c.JAppsConfig.hub_host = "hub"
    c.JAppsConfig.service_workers = 4
    c.JAppsConfig.allowed_frameworks = ["panel", "streamlit"]
    c.JAppsConfig.blocked_frameworks = ["jupyterlab"]
    c.JAppsConfig.startup_apps = [
        {
            "username": "alice",
            "servername": "alice-panel",
            "user_options": {
                "jhub_app": True,
                "display_name": "Alice's Panel",
                "description": "demo",
                "framework": "panel",
                "filepath": "app.py",
                "share_with": {"users": ["bob"], "groups": ["staff"]},
            },
        }
    ]
    c.JAppsConfig.jhub_app_proxy_version = "v0.3.0"
    c.JAppsConfig.additional_services = [
        {"name": "Docs", "url": "https://docs.example.org", "description": "manual",
         "pinned": True, "thumbnail": "https://example.org/docs.png"},
        {"name": "Status", "url": "https://status.example.org"},
    ]
    c.JAppsConfig.banners = {
        "top": {"text": "Maintenance on Friday", "background": "#ff0", "foreground": "#000"},
        "bottom": {"text": ""},
    }
    """
)


def test_unchanged_jhub_apps_config_loads(tmp_path):
    (tmp_path / "jupyterhub_config.py").write_text(UNCHANGED_JHUB_APPS_CONFIG)
    c = PyFileConfigLoader("jupyterhub_config.py", path=str(tmp_path)).load_config()
    install_jhub_apps(c, SimpleLocalProcessSpawner)

    cfg = JAppsConfig(config=c)
    assert cfg.apps_auth_type == "none"
    assert cfg.conda_envs({"name": "alice"}) == ["env-alice"]
    assert cfg.hub_host == "hub"
    assert cfg.service_workers == 4
    assert cfg.startup_apps[0]["user_options"]["share_with"] == {
        "users": ["bob"],
        "groups": ["staff"],
    }
    assert cfg.additional_services[1] == {
        "name": "Status",
        "url": "https://status.example.org",
        "description": None,
        "pinned": False,
        "thumbnail": None,
    }
    assert cfg.banners["top"] == {
        "text": "Maintenance on Friday",
        "background": "#ff0",
        "foreground": "#000",
    }

    data = japps_config(c)
    assert data["callables"] == ["conda_envs"]
    assert "conda_envs" not in data
    assert data["jhub_app_proxy_version"] == "v0.3.0"
    assert data["allowed_frameworks"] == ["panel", "streamlit"]


class _V1Model:
    """Stands in for a pydantic v1 model: only ``.dict()``."""

    def __init__(self, **fields):
        self._fields = fields

    def dict(self):
        return dict(self._fields)


def test_startup_apps_accept_pydantic_models_and_dicts(c):
    pydantic = pytest.importorskip("pydantic")

    class UserOptions(pydantic.BaseModel):
        display_name: str
        framework: str = "panel"
        jhub_app: bool = True

    class StartupApp(pydantic.BaseModel):
        username: str
        servername: str
        user_options: UserOptions

    c.JAppsConfig.startup_apps = [
        StartupApp(username="a", servername="s1", user_options=UserOptions(display_name="One")),
        _V1Model(username="b", servername="s2", user_options={"display_name": "Two"}),
        {"username": "c", "servername": "s3", "user_options": {}, "comment": "dropped"},
    ]
    assert JAppsConfig(config=c).startup_apps == [
        {
            "username": "a",
            "servername": "s1",
            "user_options": {"display_name": "One", "framework": "panel", "jhub_app": True},
        },
        {"username": "b", "servername": "s2", "user_options": {"display_name": "Two"}},
        {"username": "c", "servername": "s3", "user_options": {}},
    ]


@pytest.mark.parametrize(
    "item, message",
    [
        ({"servername": "s", "user_options": {}}, "'username'"),
        ({"username": "u", "servername": "", "user_options": {}}, "'servername'"),
        ({"username": "u", "servername": "s"}, "'user_options'"),
        ("alice/app", "expected a dict"),
    ],
)
def test_startup_apps_reject_bad_items(c, item, message):
    c.JAppsConfig.startup_apps = [item]
    with pytest.raises(TraitError, match=message):
        JAppsConfig(config=c)


@pytest.mark.parametrize(
    "item, message",
    [
        ({"url": "https://x"}, "'name'"),
        ({"name": "x"}, "'url'"),
        ({"name": "x", "url": "https://x", "pinned": "yes"}, "'pinned'"),
        ({"name": "x", "url": "https://x", "thumbnail": 3}, "'thumbnail'"),
    ],
)
def test_additional_services_reject_bad_items(c, item, message):
    c.JAppsConfig.additional_services = [item]
    with pytest.raises(TraitError, match=message):
        JAppsConfig(config=c)


def test_banners_partial_and_none(c):
    c.JAppsConfig.banners = {"bottom": {"text": "Hi", "background": None}}
    assert JAppsConfig(config=c).banners == {"top": {"text": ""}, "bottom": {"text": "Hi"}}
    c.JAppsConfig.banners = None
    assert JAppsConfig(config=c).banners == JHUB_APPS_DEFAULTS["banners"]


def test_banners_reject_bad_text(c):
    c.JAppsConfig.banners = {"top": {"text": ["not", "text"]}}
    with pytest.raises(TraitError, match="text"):
        JAppsConfig(config=c)


@pytest.mark.parametrize(
    "name, value",
    [
        ("apps_auth_type", "basic"),
        ("conda_envs", "base"),
        ("allowed_frameworks", [1]),
        ("blocked_frameworks", 5),
        ("service_port", 0),
        ("service_port", 70000),
        ("hub_host", "http://hub"),
        ("hub_host", ""),
        ("japps_bin", ""),
        ("launcher_bin", ""),
        ("launcher_args", [60]),
        ("identity_cache_max_age", -1),
        ("callable_cache_seconds", -1),
        ("shared_app_cache_seconds", -1),
        ("cookie_secret_file", ""),
        ("thumbnail_max_bytes", 0),
        ("thumbnail_max_bytes", -1),
        ("thumbnail_max_bytes", "5MB"),
        ("allow_local_git_repositories", "yes please"),
        ("git_clone_timeout", 0),
        ("git_clone_max_bytes", 0),
        ("max_share_targets", -1),
        ("max_share_targets", "many"),
        ("allow_public_apps", "sometimes"),
        ("allow_keep_alive", "sometimes"),
        ("launcher_args_final", "sometimes"),
    ],
)
def test_bad_values_are_refused(c, name, value):
    c.JAppsConfig[name] = value
    with pytest.raises(TraitError):
        JAppsConfig(config=c)


def test_identity_cache_can_be_disabled(c):
    c.JAppsConfig.identity_cache_max_age = 0
    assert JAppsConfig(config=c).identity_cache_max_age == 0


def test_thumbnail_limit_can_be_changed(c):
    c.JAppsConfig.thumbnail_max_bytes = 1
    assert JAppsConfig(config=c).thumbnail_max_bytes == 1


def test_launcher_bin_follows_japps_bin_unless_set(c):
    c.JAppsConfig.japps_bin = "/opt/japps/bin/japps"
    assert JAppsConfig(config=c).launcher_bin == "/opt/japps/bin/japps"
    c.JAppsConfig.launcher_bin = "/usr/local/bin/japps"
    cfg = JAppsConfig(config=c)
    assert (cfg.japps_bin, cfg.launcher_bin) == ("/opt/japps/bin/japps", "/usr/local/bin/japps")


def test_git_clone_settings_can_be_changed(c):
    c.JAppsConfig.allow_local_git_repositories = True
    c.JAppsConfig.git_clone_timeout = 5
    c.JAppsConfig.git_clone_max_bytes = 1024
    cfg = JAppsConfig(config=c)
    assert cfg.allow_local_git_repositories is True
    assert (cfg.git_clone_timeout, cfg.git_clone_max_bytes) == (5, 1024)


def test_lazy_append_on_config_works(c):
    c.JAppsConfig.conda_envs.append("base")
    c.JAppsConfig.startup_apps.append(
        {"username": "u", "servername": "s", "user_options": {"display_name": "S"}}
    )
    cfg = JAppsConfig(config=c)
    assert cfg.conda_envs == ["base"]
    assert cfg.startup_apps[0]["servername"] == "s"


def test_unknown_option_does_not_break_loading():
    c = Config()
    c.JAppsConfig.some_future_option = 1
    assert JAppsConfig(config=c).hub_host == "127.0.0.1"


def test_launcher_policy_traits(c):
    c.JAppsConfig.allow_public_apps = False
    c.JAppsConfig.allow_keep_alive = False
    c.JAppsConfig.launcher_args_final = False
    cfg = JAppsConfig(config=c)
    assert (cfg.allow_public_apps, cfg.allow_keep_alive, cfg.launcher_args_final) == (
        False,
        False,
        False,
    )

"""The spawner install_jhub_apps installs: apps run `japps launch`, other
servers spawn as the admin's spawner would.

Spawners are made by JupyterHub's own ``User`` (in-memory database) from the
installed ``c.JupyterHub.spawner_class``; fake base spawners record what they
would run instead of running it. One test spawns a real process through the
hub's full spawn sequence.
"""

import asyncio
import json
import logging
import sys

import pytest
from jupyterhub import orm
from jupyterhub.objects import Hub
from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, Spawner
from jupyterhub.user import User
from tornado import web
from traitlets import Unicode, default

from helpers import start_hub
from japps import install_jhub_apps, subclass_spawner
from japps.spawner import JAppsSpawnerMixin

APP = {
    "jhub_app": True,
    "name": "sales",
    "display_name": "Sales",
    "description": "quarterly numbers",
    "thumbnail": "data:image/png;base64,AAAA",
    "framework": "panel",
    "filepath": "app.py",
    "custom_command": "",
    "conda_env": "env1",
    "keep_alive": False,
    "public": False,
    "repository": {"url": "https://example.org/r.git", "ref": "main"},
    "profile": "small",
    "share_with": {"users": ["bob"], "groups": []},
    "env": {"GREETING": "hello"},
}


class RecordingSpawner(Spawner):
    """Runs nothing: records the command, environment and image of each start."""

    @default("cmd")
    def _default_cmd(self):
        return ["configured-cmd"]

    async def start(self):
        self.started = {
            "argv": [*self.cmd, *self.get_args()],
            "env": self.get_env(),
            "image": getattr(self, "image", None),
        }
        return ("127.0.0.1", 12345)

    async def stop(self, now=False):
        pass

    async def poll(self):
        return None


class ImageSpawner(RecordingSpawner):
    """Like DockerSpawner: has an `image` setting, no profiles."""

    image = Unicode("configured/image:1").tag(config=True)


class ProfileSpawner(ImageSpawner):
    """Like KubeSpawner: start() applies the selected profile's overrides
    through load_user_options() before it builds the pod."""

    def start(self):
        return asyncio.ensure_future(self._start())

    async def _start(self):
        await self.load_user_options()
        return await super().start()

    async def load_user_options(self):
        if self.user_options.get("profile") == "gpu":
            self.image = "profile/gpu:1"
            self.cmd = ["profile-cmd"]


class Logged(logging.Handler):
    """Records of chosen loggers, whatever a hub's logging set-up (which
    stops propagation to the root logger) did before."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []
        self._undo = []

    def emit(self, record):
        self.records.append(record)

    def watch(self, logger):
        saved = (logger.level, logger.disabled)
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        logger.addHandler(self)
        self._undo.append((logger, saved))

    def unwatch(self):
        # Not close(): logging.shutdown() closes every handler when alembic
        # (the hub's database set-up) configures logging.
        for logger, (level, disabled) in self._undo:
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.disabled = disabled

    def clear(self):
        self.records.clear()

    def messages(self, level=logging.DEBUG):
        return [r.getMessage() for r in self.records if r.levelno >= level]

    @property
    def text(self):
        return "\n".join(self.messages())


@pytest.fixture
def logged():
    """What japps logs (to JupyterHub.japps); clear() it after install_jhub_apps,
    which warns that the test's japps_bin is not on PATH."""
    handler = Logged()
    handler.watch(logging.getLogger("JupyterHub.japps"))
    yield handler
    handler.unwatch()


def run(coro):
    return asyncio.run(coro)


def new_spawner(c, user_options=None, name="app"):
    """A spawner as the hub makes one for alice's server `name`."""
    db = orm.new_session_factory("sqlite://")()
    orm_user = orm.User(name="alice")
    db.add(orm_user)
    db.commit()
    settings = {
        "config": c,
        "hub": Hub(),
        "spawner_class": c.JupyterHub.spawner_class,
        "allow_named_servers": True,
    }
    user = User(orm_user, settings)
    if hasattr(user, "get_or_create_spawner"):  # 6.x
        spawner = user.get_or_create_spawner(name, name)
    else:
        spawner = user.spawners[name]
    spawner.api_token = "hub-token"
    spawner.user_options = dict(user_options or {})
    return spawner


def installed(c, base=RecordingSpawner, **japps):
    for key, value in japps.items():
        c.JAppsConfig[key] = value
    install_jhub_apps(c, base)
    return c


def started(spawner):
    async def start():
        # as the hub does: start() may return a coroutine or a future
        return await spawner.start()

    run(start())
    return spawner.started


def app_json(env):
    return json.loads(env["JAPPS_APP"])


# --- wrapping ------------------------------------------------------------------


def test_install_wraps_the_spawner_class(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    cls = c.JupyterHub.spawner_class
    assert cls.__name__ == "JAppsSpawner"
    assert issubclass(cls, SimpleLocalProcessSpawner)
    assert issubclass(cls, JAppsSpawnerMixin)
    assert cls._japps_base is SimpleLocalProcessSpawner
    assert subclass_spawner(SimpleLocalProcessSpawner) is cls


@pytest.mark.parametrize(
    "name, base",
    [
        ("simple", SimpleLocalProcessSpawner),
        ("Simple", SimpleLocalProcessSpawner),
        ("localprocess", LocalProcessSpawner),
        ("default", LocalProcessSpawner),
        ("jupyterhub.spawner.SimpleLocalProcessSpawner", SimpleLocalProcessSpawner),
        (f"{__name__}.ImageSpawner", ImageSpawner),
    ],
)
def test_spawner_given_by_name(c, name, base):
    install_jhub_apps(c, name)
    assert c.JupyterHub.spawner_class is subclass_spawner(base)


@pytest.mark.parametrize("value", ["nosuchspawner", "no.such.Spawner", "json.dumps", int])
def test_unusable_spawner_class_is_a_clear_error(c, value):
    with pytest.raises(ValueError, match=r"spawner_class .*installed spawner \(.*simple"):
        install_jhub_apps(c, value)


def test_jhub_apps_keyword_works_too(c):
    install_jhub_apps(c, spawner_to_subclass=SimpleLocalProcessSpawner, oauth_no_confirm=True)
    assert c.JupyterHub.spawner_class is subclass_spawner(SimpleLocalProcessSpawner)
    with pytest.raises(TypeError, match="not both"):
        install_jhub_apps(c, "simple", spawner_to_subclass="simple")
    with pytest.raises(TypeError, match="required"):
        install_jhub_apps(c)


def test_installing_twice_wraps_once(c):
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    first = c.JupyterHub.spawner_class
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert c.JupyterHub.spawner_class is first
    # passing the installed class (e.g. read back from c) does not wrap it again
    install_jhub_apps(c, first)
    assert c.JupyterHub.spawner_class is first


def test_subclass_of_a_wrapped_class_is_kept():
    wrapped = subclass_spawner(ImageSpawner)

    class Mine(wrapped):
        pass

    assert subclass_spawner(Mine) is Mine
    assert subclass_spawner(wrapped) is wrapped


def test_the_hub_accepts_the_wrapped_class(c):
    install_jhub_apps(c, "simple")
    app = start_hub(c)
    try:
        assert app.spawner_class is subclass_spawner(SimpleLocalProcessSpawner)
    finally:
        app.db.close()


def test_evaluating_a_callable_leaves_the_class_as_given(c, monkeypatch):
    monkeypatch.setenv("JAPPS_EVALUATE", "1")
    install_jhub_apps(c, "no.such.Spawner")
    assert c.JupyterHub.spawner_class == "no.such.Spawner"


def test_only_spawners_with_profiles_get_load_user_options():
    assert not hasattr(subclass_spawner(ImageSpawner), "load_user_options")
    assert "load_user_options" in vars(subclass_spawner(ProfileSpawner))


# --- command -------------------------------------------------------------------


def test_app_runs_the_launcher(c):
    installed(c, japps_bin="/opt/japps/bin/japps")
    spawner = new_spawner(c, APP)
    assert started(spawner)["argv"] == ["/opt/japps/bin/japps", "launch"]


def test_launcher_bin_and_args(c):
    installed(
        c,
        japps_bin="/hub/bin/japps",
        launcher_bin="/usr/local/bin/japps",
        launcher_args=["--activity-interval=60", "--ready-timeout=120"],
    )
    c.Spawner.args = ["--debug", "--allow-root"]
    spawner = new_spawner(c, APP)
    # The operator's arguments for Jupyter servers are not the launcher's.
    assert started(spawner)["argv"] == [
        "/usr/local/bin/japps",
        "launch",
        "--activity-interval=60",
        "--ready-timeout=120",
        "--launcher-args-final",
    ]
    assert spawner.get_args() == []
    spawner.user_options = {}
    assert spawner.get_args() == ["--debug", "--allow-root"]


def test_operator_policy_reaches_the_launcher(c):
    installed(
        c,
        japps_bin="/hub/bin/japps",
        launcher_args=["--allow-public=true", "--ready-timeout=60"],
        allow_public_apps=False,
        allow_keep_alive=False,
    )
    # Last, so an operator's own launcher_args cannot undo the policy traits.
    assert started(new_spawner(c, APP))["argv"] == [
        "/hub/bin/japps",
        "launch",
        "--allow-public=true",
        "--ready-timeout=60",
        "--allow-public=false",
        "--allow-keep-alive=false",
        "--launcher-args-final",
    ]
    installed(
        c,
        japps_bin="/hub/bin/japps",
        launcher_args=["--ready-timeout=60"],
        launcher_args_final=False,
        allow_public_apps=True,
        allow_keep_alive=True,
    )
    assert started(new_spawner(c, APP))["argv"] == [
        "/hub/bin/japps",
        "launch",
        "--ready-timeout=60",
    ]


def test_non_app_server_is_untouched(c, logged):
    installed(c)
    c.Spawner.args = ["--debug"]
    options = {"profile": "small", "env": {"GREETING": "hi"}, "profile_image": "x/y:1"}
    spawner = new_spawner(c, options)
    logged.clear()
    record = started(spawner)
    assert record["argv"] == ["configured-cmd", "--debug"]
    assert record["env"] == RecordingSpawner.get_env(spawner)
    assert "JAPPS_APP" not in record["env"]
    assert "GREETING" not in record["env"]
    assert "japps" not in logged.text


@pytest.mark.parametrize("flag", ["true", 1, None])
def test_only_jhub_app_true_makes_an_app(c, flag):
    installed(c)
    spawner = new_spawner(c, {**APP, "jhub_app": flag})
    record = started(spawner)
    assert record["argv"] == ["configured-cmd"]
    assert "JAPPS_APP" not in record["env"]


def test_command_is_restored_when_the_server_is_no_longer_an_app(c):
    installed(c)
    spawner = new_spawner(c, APP)
    assert started(spawner)["argv"] == ["japps", "launch"]
    spawner.user_options = {}
    assert started(spawner)["argv"] == ["configured-cmd"]
    spawner.user_options = dict(APP)
    assert started(spawner)["argv"] == ["japps", "launch"]


# --- environment ---------------------------------------------------------------


def test_japps_app_holds_the_app_definition(c):
    installed(c, python_exec="/opt/conda/bin/python")
    env = started(new_spawner(c, APP))["env"]
    assert app_json(env) == {
        "framework": "panel",
        "display_name": "Sales",
        "filepath": "app.py",
        "custom_command": "",
        "conda_env": "env1",
        "keep_alive": False,
        "public": False,
        "repository": {"url": "https://example.org/r.git", "ref": "main"},
        "python_exec": "/opt/conda/bin/python",
    }
    # compact JSON
    assert " " not in env["JAPPS_APP"].replace("/opt/conda/bin/python", "")


def test_japps_app_has_only_the_keys_present(c):
    installed(c)
    env = started(new_spawner(c, {"jhub_app": True, "framework": "custom", "conda_env": None}))[
        "env"
    ]
    assert app_json(env) == {"framework": "custom", "conda_env": None, "python_exec": "python"}


def test_japps_app_never_holds_thumbnail_description_or_env(c):
    installed(c)
    text = started(new_spawner(c, APP))["env"]["JAPPS_APP"]
    for left_out in ("thumbnail", "description", "quarterly", "share_with", "GREETING", "small"):
        assert left_out not in text


def test_apps_are_told_the_service_version(c, tmp_path):
    fake = tmp_path / "japps"
    fake.write_text("#!/bin/sh\necho 'japps 7.7.7 (abc)'\n")
    fake.chmod(0o755)
    installed(c, japps_bin=str(fake), launcher_bin="japps")
    env = started(new_spawner(c, APP))["env"]
    assert env["JAPPS_SERVICE_VERSION"] == "7.7.7 (abc)"
    assert "JAPPS_SERVICE_VERSION" not in started(new_spawner(c, {}))["env"]


def test_user_env_is_added_on_top(c):
    installed(c)
    c.Spawner.environment = {"SHARED": "operator", "KEEP": "operator"}
    options = {
        **APP,
        "env": {
            "SHARED": "app",
            "JHUB_APP_PROXY_ARGS": "--ready-timeout=600",
            "JHUB_APP_ENV_MANAGER": "pixi",
        },
    }
    env = started(new_spawner(c, options))["env"]
    assert env["SHARED"] == "app"
    assert env["KEEP"] == "operator"
    assert env["JHUB_APP_PROXY_ARGS"] == "--ready-timeout=600"
    assert env["JHUB_APP_ENV_MANAGER"] == "pixi"


def test_user_env_cannot_set_hub_variables(c, logged):
    installed(c)
    options = {
        **APP,
        "env": {
            "JUPYTERHUB_API_URL": "http://evil.example.org",
            "JUPYTERHUB_API_TOKEN": "stolen",
            "jupyterhub_service_prefix": "/x/",
            "JPY_API_TOKEN": "stolen",
            "JAPPS_APP": '{"framework":"custom","custom_command":"sh"}',
            "OK": "yes",
        },
    }
    spawner = new_spawner(c, options)
    logged.clear()
    env = started(spawner)["env"]
    assert env["JUPYTERHUB_API_TOKEN"] == "hub-token"
    assert env["JPY_API_TOKEN"] == "hub-token"
    assert env["JUPYTERHUB_API_URL"] == RecordingSpawner.get_env(spawner)["JUPYTERHUB_API_URL"]
    assert "jupyterhub_service_prefix" not in env
    assert app_json(env)["framework"] == "panel"
    assert env["OK"] == "yes"
    warnings = logged.messages(logging.WARNING)
    assert len(warnings) == 1
    assert "alice:app" in warnings[0]
    for key in ("JAPPS_APP", "JPY_API_TOKEN", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL"):
        assert key in warnings[0]
    # the refused values are not logged
    assert "stolen" not in logged.text
    assert "evil" not in logged.text


@pytest.mark.parametrize(
    "user_env, kept",
    [
        ({"A": "1", "B": 2, "C": None, "D=E": "x", "F": "a\0b"}, {"A": "1"}),
        ("A=1", {}),
        (["A=1"], {}),
    ],
)
def test_bad_user_env_entries_are_skipped_with_a_warning(c, logged, user_env, kept):
    installed(c)
    spawner = new_spawner(c, {**APP, "env": user_env})
    logged.clear()
    env = started(spawner)["env"]
    base = RecordingSpawner.get_env(spawner)
    added = {k: v for k, v in env.items() if k not in base and k != "JAPPS_APP"}
    assert added == kept
    assert "user_options.env" in logged.text


def test_oversized_app_definition_is_refused_before_starting(c):
    installed(c)
    spawner = new_spawner(c, {**APP, "custom_command": "x" * 110_000})
    with pytest.raises(web.HTTPError) as info:
        started(spawner)
    assert info.value.status_code == 400
    assert "bytes" in str(info.value) and "alice:app" in str(info.value)
    assert not hasattr(spawner, "started")


def test_large_thumbnail_does_not_count(c):
    installed(c)
    spawner = new_spawner(c, {**APP, "thumbnail": "data:image/png;base64," + "A" * 500_000})
    assert len(started(spawner)["env"]["JAPPS_APP"]) < 1000


# --- profile_image ---------------------------------------------------------------


def test_profile_image_applied_when_allowed(c, logged):
    installed(c, base=ImageSpawner, allow_profile_image=True)
    spawner = new_spawner(c, {**APP, "profile_image": " registry.example.org/team/app:2 "})
    assert started(spawner)["image"] == "registry.example.org/team/app:2"
    assert "profile_image" in logged.text
    # the next start without it is back to the configured image
    spawner.user_options = dict(APP)
    assert started(spawner)["image"] == "configured/image:1"


def test_profile_image_ignored_when_not_allowed(c, logged):
    installed(c, base=ImageSpawner)
    spawner = new_spawner(c, {**APP, "profile_image": "evil/miner:latest"})
    assert started(spawner)["image"] == "configured/image:1"
    assert "allow_profile_image" in logged.text


@pytest.mark.parametrize("value", ["", None, "   ", 5])
def test_empty_or_bad_profile_image_is_ignored(c, value):
    installed(c, base=ImageSpawner, allow_profile_image=True)
    spawner = new_spawner(c, {**APP, "profile_image": value})
    assert started(spawner)["image"] == "configured/image:1"


def test_profile_image_not_applied_to_non_app_servers(c):
    installed(c, base=ImageSpawner, allow_profile_image=True)
    spawner = new_spawner(c, {"profile_image": "x/y:1"})
    assert started(spawner)["image"] == "configured/image:1"


def test_profile_image_without_image_trait_warns_once(c, logged):
    class NoImageSpawner(RecordingSpawner):
        pass

    installed(c, base=NoImageSpawner, allow_profile_image=True)
    logged.clear()
    for _ in range(3):
        started(new_spawner(c, {**APP, "profile_image": "x/y:1"}))
    warnings = [m for m in logged.messages() if "no 'image' setting" in m]
    assert len(warnings) == 1
    assert "NoImageSpawner" in warnings[0]


def test_app_choices_win_over_the_profile(c):
    installed(c, base=ProfileSpawner, allow_profile_image=True)
    spawner = new_spawner(c, {**APP, "profile": "gpu", "profile_image": "team/app:3"})
    record = started(spawner)
    assert record["image"] == "team/app:3"
    assert record["argv"] == ["japps", "launch"]


def test_profile_applies_to_apps_without_their_own_image(c):
    installed(c, base=ProfileSpawner, allow_profile_image=True)
    record = started(new_spawner(c, {**APP, "profile": "gpu"}))
    assert record["image"] == "profile/gpu:1"
    assert record["argv"] == ["japps", "launch"]


def test_profile_applies_to_non_app_servers(c):
    installed(c, base=ProfileSpawner, allow_profile_image=True)
    record = started(new_spawner(c, {"profile": "gpu", "profile_image": "team/app:3"}))
    assert record["image"] == "profile/gpu:1"
    assert record["argv"] == ["profile-cmd"]


# --- JupyterHub's apply_user_options hook ---------------------------------------


def test_unhandled_user_options_warning_left_out_for_apps_only(c, logged):
    installed(c)
    app, other = new_spawner(c, APP), new_spawner(c, {"profile": "small"})
    logged.watch(app.log)  # the hub's warning goes to the spawner's log
    run(app._run_apply_user_options(app.user_options))
    assert "unhandled user_options" not in logged.text
    run(other._run_apply_user_options(other.user_options))
    assert "unhandled user_options" in logged.text


def test_operator_apply_user_options_hook_still_runs_for_apps(c):
    seen = []
    c.Spawner.apply_user_options = lambda spawner, options: seen.append(options["name"])
    installed(c)
    spawner = new_spawner(c, APP)
    run(spawner._run_apply_user_options(spawner.user_options))
    assert seen == ["sales"]


# --- a real spawn through the hub ---------------------------------------------------

FAKE_LAUNCHER = """\
#!{python}
# Records how it was started, then answers HTTP like a server would.
import http.server, json, os, sys, urllib.parse
with open({dump!r}, "w") as f:
    json.dump({{"argv": sys.argv, "env": dict(os.environ)}}, f)
url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
try:
    http.server.HTTPServer((url.hostname, url.port), Handler).serve_forever()
except KeyboardInterrupt:
    pass
"""


# JupyterHub 5.5's own event schema, not ours
@pytest.mark.filterwarnings("ignore:The `version` property of an event schema")
def test_hub_spawns_an_app_with_the_launcher(c, tmp_path, logged):
    dump = tmp_path / "launch.json"
    launcher = tmp_path / "japps"
    launcher.write_text(FAKE_LAUNCHER.format(python=sys.executable, dump=str(dump)))
    launcher.chmod(0o755)
    c.JAppsConfig.launcher_bin = str(launcher)
    c.JAppsConfig.launcher_args = ["--activity-interval=60"]
    install_jhub_apps(c, "simple")
    app = start_hub(c)
    app.init_proxy()
    app.init_eventlog()
    app.init_tornado_settings()
    # the hub's logging set-up removed handlers from its loggers
    logged.watch(logging.getLogger("JupyterHub.japps"))
    user = app.users["alice"]
    options = {**APP, "env": {"GREETING": "hello", "JUPYTERHUB_API_URL": "http://evil"}}

    async def spawn():
        if hasattr(user, "get_or_create_spawner"):  # 6.x
            spawner = user.get_or_create_spawner("sales", "Sales")
        else:
            spawner = user.spawners["sales"]
        logged.watch(spawner.log)
        await user.spawn("sales", options=options)
        try:
            return user.spawners["sales"].server.base_url
        finally:
            await user.stop("sales")

    try:
        prefix = run(spawn())
    finally:
        app.db.close()
    launched = json.loads(dump.read_text())
    env = launched["env"]
    assert launched["argv"] == [
        str(launcher),
        "launch",
        "--activity-interval=60",
        "--launcher-args-final",
    ]
    assert app_json(env)["display_name"] == "Sales"
    assert env["GREETING"] == "hello"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == prefix == "/user/alice/sales/"
    assert env["JUPYTERHUB_API_URL"] != "http://evil"
    assert "JUPYTERHUB_API_URL" in logged.text
    assert "unhandled user_options" not in logged.text

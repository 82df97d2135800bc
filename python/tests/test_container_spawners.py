"""The japps spawner around the container and systemd spawners operators run, tested
without a cluster, a Docker daemon or systemd: the pod manifest KubeSpawner would create
(``KubeSpawner(_mock=True)``, its own test mode), the command and environment
DockerSpawner and SystemdSpawner would run. Each base spawner's own code builds them;
only the final call to the cluster, daemon or systemd is replaced by a recorder."""

import asyncio
import json
from unittest.mock import Mock

import pytest
from jupyterhub.objects import Hub, Server

from japps import install_jhub_apps, subclass_spawner

kubespawner = pytest.importorskip("kubespawner")
dockerspawner = pytest.importorskip("dockerspawner")
systemdspawner = pytest.importorskip("systemdspawner")

LAUNCHER = ["/opt/japps/bin/japps", "launch", "--activity-interval=60", "--launcher-args-final"]
APP = {
    "jhub_app": True,
    "name": "sales",
    "display_name": "Sales",
    "framework": "panel",
    "filepath": "",
    "env": {"GREETING": "hello"},
    "profile": "gpu",
}
PROFILES = [
    {"display_name": "Small", "slug": "small", "default": True,
     "kubespawner_override": {"image": "hub/small:1", "cpu_limit": 1}},
    {"display_name": "GPU", "slug": "gpu",
     "kubespawner_override": {"image": "hub/gpu:2", "cpu_limit": 4,
                              "cmd": ["profile-cmd"]}},
]


class MockUser(Mock):
    name = "alice"
    server = Server()

    @property
    def escaped_name(self):
        return self.name

    @property
    def url(self):
        return self.server.url


class MockOrmSpawner(Mock):
    name = "sales"
    server = None


def configured(c, **japps):
    c.JAppsConfig.japps_bin = "/opt/japps/bin/japps"
    c.JAppsConfig.launcher_args = ["--activity-interval=60"]
    for key, value in japps.items():
        c.JAppsConfig[key] = value
    return c


# --- KubeSpawner ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch):
    """KubeSpawner loads a kube config and makes its API client when it is created;
    there is no cluster here, and nothing in these tests calls it."""
    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **kwargs: None)
    monkeypatch.setattr(kubespawner.spawner, "shared_client", lambda *args, **kwargs: Mock())


def kube(c, user_options, profiles=PROFILES, **japps):
    configured(c, **japps)
    c.KubeSpawner.profile_list = profiles
    c.KubeSpawner.cmd = ["jupyterhub-singleuser"]
    c.KubeSpawner.args = ["--allow-root"]
    c.KubeSpawner.image = "hub/default:0"
    install_jhub_apps(c, kubespawner.KubeSpawner)
    cls = c.JupyterHub.spawner_class
    spawner = cls(
        config=c, hub=Hub(), user=MockUser(), orm_spawner=MockOrmSpawner(), _mock=True
    )
    spawner.api_token = "server-token"
    spawner.user_options = dict(user_options)
    return spawner


def serialized(model):
    """The object as the Kubernetes client would send it (camelCase JSON)."""
    from kubernetes_asyncio.client import ApiClient

    async def serialize():
        async with ApiClient() as api:
            return api.sanitize_for_serialization(model)

    return asyncio.run(serialize())


def pod_of(spawner):
    """The pod KubeSpawner's start() would create: its own load_user_options() (the
    profile) and get_pod_manifest(), as `_start` runs them before calling the cluster."""

    async def build():
        await spawner.load_user_options()
        return await spawner.get_pod_manifest()

    pod = asyncio.run(build())
    container = pod.spec.containers[0]
    env = {e.name: e.value for e in container.env or []}
    return container, env


def test_kubespawner_app_pod_runs_the_launcher_with_the_profile(c):
    container, env = pod_of(kube(c, APP))
    # The app's command wins over the profile's and the operator's Jupyter arguments.
    assert container.args == LAUNCHER
    assert container.image == "hub/gpu:2"  # the profile's image
    assert float(container.resources.limits["cpu"]) == 4  # the profile's overrides stay
    app = json.loads(env["JAPPS_APP"])
    assert app["framework"] == "panel" and app["display_name"] == "Sales"
    assert env["GREETING"] == "hello"


def test_kubespawner_profile_image_only_when_allowed(c):
    options = {**APP, "profile_image": "team/custom:3"}
    container, _ = pod_of(kube(c, options, allow_profile_image=True))
    assert container.image == "team/custom:3"


def test_kubespawner_profile_image_refused_when_not_allowed(c):
    options = {**APP, "profile_image": "team/custom:3"}
    container, _ = pod_of(kube(c, options, allow_profile_image=False))
    assert container.image == "hub/gpu:2"


def test_kubespawner_default_server_pod_is_unchanged(c):
    container, env = pod_of(kube(c, {"profile": "gpu"}))
    assert container.args == ["profile-cmd", "--allow-root"]
    assert container.image == "hub/gpu:2"
    assert "JAPPS_APP" not in env and "GREETING" not in env
    container, env = pod_of(kube(c, {}))
    assert container.args == ["jupyterhub-singleuser", "--allow-root"]
    assert container.image == "hub/small:1"  # the default profile


def test_kubespawner_profiles_from_a_callable(c):
    async def profiles(spawner):
        return PROFILES

    container, env = pod_of(kube(c, APP, profiles=profiles))
    assert container.args == LAUNCHER
    assert container.image == "hub/gpu:2"
    assert "JAPPS_APP" in env


def test_kubespawner_launcher_image_puts_the_binary_in_any_user_image(c):
    profiles = [
        {"display_name": "GPU", "slug": "gpu",
         "kubespawner_override": {
             "image": "hub/gpu:2",
             "init_containers": [{"name": "fetch-data", "image": "busybox"}],
             "volumes": [{"name": "data", "emptyDir": {}}],
         }},
    ]
    spawner = kube(c, APP, profiles=profiles, launcher_image="example/japps-launcher:0.1.0")
    container, env = pod_of(spawner)
    # The manifest as it would be sent to the cluster.
    pod = serialized(asyncio.run(spawner.get_pod_manifest()))
    assert container.args == ["/opt/japps/japps", "launch", "--activity-interval=60", "--launcher-args-final"]
    assert container.image == "hub/gpu:2"  # the user image, without japps
    init = {i["name"]: i for i in pod["spec"]["initContainers"]}
    assert set(init) == {"fetch-data", "japps-launcher"}  # the profile's are kept
    assert init["japps-launcher"] == {
        "name": "japps-launcher",
        "image": "example/japps-launcher:0.1.0",
        "command": ["cp", "/usr/local/bin/japps", "/opt/japps/japps"],
        "volumeMounts": [{"name": "japps-launcher", "mountPath": "/opt/japps"}],
    }
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert set(volumes) == {"data", "japps-launcher"}
    assert volumes["japps-launcher"] == {"name": "japps-launcher", "emptyDir": {}}
    mounts = {m["name"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["japps-launcher"] == {
        "name": "japps-launcher", "mountPath": "/opt/japps", "readOnly": True
    }
    assert "JAPPS_APP" in env


def test_kubespawner_launcher_image_leaves_other_servers_alone(c):
    spawner = kube(c, APP, launcher_image="example/japps-launcher:0.1.0")
    pod_of(spawner)
    # The same server started again as a plain server: no trace of the launcher.
    spawner._japps_restore()
    spawner.user_options = {"profile": "gpu"}
    pod = serialized(asyncio.run(spawner.get_pod_manifest()))
    assert pod["spec"]["containers"][0]["args"] == ["profile-cmd", "--allow-root"]
    assert "japps-launcher" not in json.dumps(pod)


# --- DockerSpawner -------------------------------------------------------------


def test_dockerspawner_runs_the_launcher_in_the_app_image(c, monkeypatch):
    configured(c, allow_profile_image=True)
    c.DockerSpawner.image = "hub/default:0"
    c.DockerSpawner.cmd = ["jupyterhub-singleuser"]
    c.DockerSpawner.args = ["--allow-root"]
    install_jhub_apps(c, dockerspawner.DockerSpawner)

    async def recorded_start(self):
        # What DockerSpawner.start passes to create_container: its own get_command(),
        # get_env() and image.
        self.recorded = {
            "command": await self.get_command(),
            "env": self.get_env(),
            "image": self.image,
        }
        return ("127.0.0.1", 8888)

    monkeypatch.setattr(dockerspawner.DockerSpawner, "start", recorded_start)
    cls = c.JupyterHub.spawner_class

    def started(options):
        spawner = cls(config=c, hub=Hub(), user=MockUser(), orm_spawner=MockOrmSpawner())
        spawner.api_token = "server-token"
        spawner.user_options = dict(options)
        asyncio.run(spawner.start())
        return spawner.recorded

    app = started({**APP, "profile_image": "team/custom:3"})
    assert app["command"] == LAUNCHER
    assert app["image"] == "team/custom:3"
    assert json.loads(app["env"]["JAPPS_APP"])["framework"] == "panel"
    assert app["env"]["GREETING"] == "hello"
    default = started({})
    assert default["command"] == ["jupyterhub-singleuser", "--allow-root"]
    assert default["image"] == "hub/default:0"
    assert "JAPPS_APP" not in default["env"]


# --- SystemdSpawner ------------------------------------------------------------


def test_systemdspawner_unit_runs_the_launcher(c, monkeypatch):
    configured(c)
    c.SystemdSpawner.cmd = ["jupyterhub-singleuser"]
    c.SystemdSpawner.args = ["--allow-root"]
    c.SystemdSpawner.dynamic_users = True  # no system account needed
    install_jhub_apps(c, systemdspawner.SystemdSpawner)
    units = []

    async def start_transient_service(unit_name, **kwargs):
        units.append(kwargs)

    async def no(*args, **kwargs):
        return False

    systemd = systemdspawner.systemdspawner.systemd
    monkeypatch.setattr(systemd, "start_transient_service", start_transient_service)
    monkeypatch.setattr(systemd, "service_running", no)
    monkeypatch.setattr(systemd, "service_failed", no)

    async def up(self):
        return None

    monkeypatch.setattr(systemdspawner.SystemdSpawner, "poll", up)
    cls = c.JupyterHub.spawner_class

    def started(options):
        spawner = cls(config=c, hub=Hub(), user=MockUser(), orm_spawner=MockOrmSpawner())
        spawner.api_token = "server-token"
        spawner.user_options = dict(options)
        asyncio.run(spawner.start())
        return units.pop()

    app = started(APP)
    assert app["cmd"] + app["args"] == LAUNCHER
    env = app["environment_variables"]
    assert json.loads(env["JAPPS_APP"])["framework"] == "panel"
    assert env["GREETING"] == "hello"
    default = started({})
    assert default["cmd"] + default["args"] == ["jupyterhub-singleuser", "--allow-root"]
    assert "JAPPS_APP" not in default["environment_variables"]


def test_launcher_image_is_ignored_with_a_warning_without_pods(c, monkeypatch, caplog):
    configured(c, launcher_image="example/japps-launcher:0.1.0")
    c.DockerSpawner.image = "hub/default:0"
    install_jhub_apps(c, dockerspawner.DockerSpawner)

    async def recorded_start(self):
        self.recorded = await self.get_command()
        return ("127.0.0.1", 8888)

    monkeypatch.setattr(dockerspawner.DockerSpawner, "start", recorded_start)
    cls = c.JupyterHub.spawner_class
    spawner = cls(config=c, hub=Hub(), user=MockUser(), orm_spawner=MockOrmSpawner())
    spawner.api_token = "server-token"
    spawner.user_options = dict(APP)
    with caplog.at_level("WARNING", logger="JupyterHub.japps"):
        asyncio.run(spawner.start())
    assert spawner.recorded == LAUNCHER
    assert "launcher_image is for KubeSpawner" in caplog.text


def test_wrapping_keeps_the_base_class(c):
    for base in (
        kubespawner.KubeSpawner,
        dockerspawner.DockerSpawner,
        systemdspawner.SystemdSpawner,
    ):
        assert issubclass(subclass_spawner(base), base)

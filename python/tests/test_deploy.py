"""deploy/: the Zero to JupyterHub values file and the Dockerfile, checked with what runs
without a cluster, Helm or Docker.

- deploy/z2jh/values.yaml parses, and every key it sets is one the z2jh 4.x chart accepts.
  The chart's own schema (values.schema.json, shipped inside the chart) is not in any
  package registry this project can use, so Z2JH_SUBSET below restates, as a JSON
  schema, the part of it this file uses: the same nesting, the same
  ``additionalProperties: false`` where the chart has it, the same types. It was written
  from the chart's values.schema.yaml source; keep it in step when the chart changes.
- hub.extraConfig.japps is valid Python, and run the way z2jh runs it (exec'd inside the
  chart's jupyterhub_config.py, after the chart's own settings) it installs japps on
  KubeSpawner with the service where the values file's ports and network policies
  expect it.
- The Dockerfile's builder stage runs scripts/build-wheel (the script CI runs), the hub
  stage installs that wheel into z2jh's hub image, the launcher stage holds the binary
  where c.JAppsConfig.launcher_image expects it.
"""

import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml
from traitlets.config.loader import PyFileConfigLoader

from helpers import japps_config, japps_service, role, start_hub
from japps.install import SESSION_KEY_ENV, SHARING_SCOPES
from japps.spawner import LAUNCHER_IN_IMAGE

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "z2jh" / "values.yaml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "docker" / "Dockerfile.dockerignore"


def values():
    return yaml.safe_load(VALUES.read_text())


# --- the values file against z2jh 4.x ---------------------------------------------------


def closed(**properties):
    """An object with only these keys, as the chart's schema says for it."""
    return {"type": "object", "additionalProperties": False, "properties": properties}


def open_object():
    """An object the chart passes through as it is (``additionalProperties: true``)."""
    return {"type": "object", "additionalProperties": True}


IMAGE = {
    **closed(
        name={"type": "string"},
        tag={"type": "string"},
        pullPolicy={"enum": [None, "", "IfNotPresent", "Always", "Never"]},
        pullSecrets={"type": "array"},
    ),
    "required": ["name", "tag"],
}
NETWORK_POLICY = closed(
    enabled={"type": "boolean"},
    ingress={"type": "array"},
    egress={"type": "array"},
    egressAllowRules=open_object(),
    interNamespaceAccessLabels={"enum": ["accept", "ignore"]},
    allowedIngressPorts={"type": "array"},
)
# hub.extraEnv / singleuser.extraEnv: a list of EnvVars, or a mapping of names to values
# or to EnvVars without their name.
EXTRA_ENV = {"type": ["object", "array"]}

# The part of z2jh 4.x's values schema that deploy/z2jh/values.yaml uses.
Z2JH_SUBSET = {
    **closed(
        hub=closed(
            image=IMAGE,
            config=open_object(),
            extraEnv=EXTRA_ENV,
            extraConfig={"type": "object", "additionalProperties": {"type": "string"}},
            service=closed(
                type={"enum": ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]},
                ports=open_object(),
                annotations=open_object(),
                extraPorts={"type": "array"},
                loadBalancerIP={"type": ["string", "null"]},
            ),
            networkPolicy=NETWORK_POLICY,
            loadRoles=open_object(),
            services=open_object(),
            allowNamedServers={"type": ["boolean", "null"]},
            namedServerLimitPerUser={"type": ["integer", "null"]},
        ),
        proxy=closed(chp=closed(networkPolicy=NETWORK_POLICY)),
        singleuser=closed(
            image=IMAGE,
            networkPolicy=NETWORK_POLICY,
            extraEnv=EXTRA_ENV,
            initContainers={"type": "array"},
            profileList={"type": "array"},
        ),
    ),
}


def test_values_are_z2jh_4_values():
    data = values()
    jsonschema.validate(data, Z2JH_SUBSET)
    # z2jh reads hub.config into the traitlets config as it is: class -> trait -> value.
    assert data["hub"]["config"]["JupyterHub"]["allow_named_servers"] is True


def test_the_subset_schema_refuses_what_z2jh_refuses():
    """The check above has teeth: a key z2jh does not know, a misplaced one, a wrong type."""
    for bad in (
        {"hub": {"extraConfigs": {}}},
        {"hub": {"service": {"extraPort": []}}},
        {"hub": {"networkPolicy": {"ingres": []}}},
        {"hub": {"image": {"name": "x"}}},
        {"proxy": {"networkPolicy": {"egress": []}}},
        {"singleuser": {"extraEnv": "X=1"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, Z2JH_SUBSET)


def test_session_key_comes_from_a_secret():
    env = values()["hub"]["extraEnv"][SESSION_KEY_ENV]
    ref = env["valueFrom"]["secretKeyRef"]
    assert ref["name"] and ref["key"]
    assert "value" not in env


def test_network_path_of_the_service():
    data = values()
    port = extra_config_port()
    [extra_port] = data["hub"]["service"]["extraPorts"]
    assert (extra_port["port"], extra_port["targetPort"]) == (port, port)
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", extra_port["name"])
    assert len(extra_port["name"]) <= 15  # a k8s port name
    # into the hub pod, from the proxy pod only
    [ingress] = data["hub"]["networkPolicy"]["ingress"]
    assert [p["port"] for p in ingress["ports"]] == [port]
    [source] = ingress["from"]
    assert source["podSelector"]["matchLabels"] == {"app": "jupyterhub", "component": "proxy"}
    # out of the proxy pod, to the hub pod
    [egress] = data["proxy"]["chp"]["networkPolicy"]["egress"]
    assert [p["port"] for p in egress["ports"]] == [port]
    [target] = egress["to"]
    assert target["podSelector"]["matchLabels"] == {"app": "jupyterhub", "component": "hub"}


# --- hub.extraConfig as z2jh runs it ----------------------------------------------------


def extra_config():
    return values()["hub"]["extraConfig"]["japps"]


def extra_config_port():
    [port] = re.findall(r"^japps_port = (\d+)$", extra_config(), re.M)
    return int(port)


def test_extra_config_is_python():
    compile(extra_config(), "hub.extraConfig.japps", "exec")


# The chart's jupyterhub_config.py, as far as it matters here: its helpers are in scope,
# it has set the spawner, services and roles from the values, then it exec()s each
# hub.extraConfig snippet in its own namespace.
Z2JH_CONFIG = """\
c = get_config()  # noqa: F821
{get_name}
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.allow_named_servers = True
c.JupyterHub.services = [{{"name": "idle-culler", "command": ["culler"]}}]
c.JupyterHub.load_roles = [{{"name": "idle-culler", "services": ["idle-culler"],
                             "scopes": ["list:users"]}}]
for _snippet in [{snippets}]:
    exec(_snippet)
"""


def load_like_z2jh(tmp_path, get_name=None):
    helper = f"def get_name(name):\n    return {get_name!r} + name" if get_name else ""
    path = tmp_path / "jupyterhub_config.py"
    path.write_text(Z2JH_CONFIG.format(get_name=helper, snippets=repr(extra_config())))
    return PyFileConfigLoader(path.name, path=str(tmp_path)).load_config()


@pytest.fixture
def kubespawner():
    return pytest.importorskip("kubespawner")


@pytest.fixture
def session_secret(monkeypatch):
    key = "k" * 64
    monkeypatch.setenv(SESSION_KEY_ENV, key)  # what hub.extraEnv puts in the hub pod
    return key


def test_extra_config_installs_japps_on_kubespawner(
    tmp_path, work_dir, kubespawner, session_secret
):
    c = load_like_z2jh(tmp_path)
    spawner = c.JupyterHub.spawner_class
    assert issubclass(spawner, kubespawner.KubeSpawner)
    assert spawner._japps_base is kubespawner.KubeSpawner
    assert c.JupyterHub.allow_named_servers is True

    port = extra_config_port()
    service = japps_service(c)
    # what the proxy routes /services/japps/ to: the hub's k8s Service and extra port
    assert service["url"] == f"http://hub:{port}"
    assert service["command"][1:] == ["serve"]
    env = service["environment"]
    # ...while the service listens on the pod's own interfaces
    assert env["JAPPS_BIND_URL"] == f"http://0.0.0.0:{port}"
    assert env[SESSION_KEY_ENV] == session_secret
    assert not (work_dir / "japps_cookie_secret").exists()

    config = japps_config(c)
    assert config["service_port"] == port
    assert config["hub_host"] == "hub"
    assert config["launcher_image"].endswith(":" + values()["hub"]["image"]["tag"])
    # the chart's own service and role are kept
    assert [s["name"] for s in c.JupyterHub.services] == ["idle-culler", "japps"]
    assert role(c, "idle-culler")["services"] == ["idle-culler"]
    # users may share apps without any hub.loadRoles of the operator's
    assert set(SHARING_SCOPES) <= set(role(c, "user")["scopes"])


def test_extra_config_follows_a_renamed_hub_service(tmp_path, work_dir, kubespawner, session_secret):
    c = load_like_z2jh(tmp_path, get_name="jhub-")
    assert japps_service(c)["url"] == f"http://jhub-hub:{extra_config_port()}"


def test_the_hub_accepts_the_configuration(tmp_path, work_dir, kubespawner, session_secret):
    """A JupyterHub made from that config loads the japps service and its roles."""
    c = load_like_z2jh(tmp_path)
    app = start_hub(c)
    service = app._service_map["japps"]
    assert service.managed
    assert service.url == f"http://hub:{extra_config_port()}"
    assert service.orm.oauth_client is not None


# --- the Dockerfile --------------------------------------------------------------------


def dockerfile_stages():
    """{stage name: (base image, [instructions])}, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    args = {}
    stages = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "ARG" and current is None:
            name, _, default = rest.partition("=")
            args[name] = default
        elif word == "FROM":
            image, _, name = rest.partition(" AS ")
            stages[name.strip()] = (image.strip(), [])
            current = name.strip()
        elif current is not None:
            stages[current][1].append((word, " ".join(rest.split())))
    return args, stages


def runs(stage):
    return " && ".join(rest for word, rest in stage[1] if word == "RUN")


def test_the_builder_builds_the_wheel_with_the_ci_script():
    _, stages = dockerfile_stages()
    builder = stages["builder"]
    assert builder[0].startswith("rust:")
    assert ("COPY", ". .") in builder[1]
    commands = runs(builder)
    assert "scripts/build-wheel" in commands
    # the same script scripts/test-wheel (CI) builds the wheel with
    assert "wheel=$(scripts/build-wheel)" in (ROOT / "scripts" / "test-wheel").read_text()
    assert (ROOT / "scripts" / "build-wheel").stat().st_mode & 0o111


def test_the_hub_image_is_z2jh_hub_with_the_wheel():
    args, stages = dockerfile_stages()
    image, steps = stages["hub"]
    assert image == "quay.io/jupyterhub/k8s-hub:${K8S_HUB_VERSION}"
    assert re.fullmatch(r"4\.\d+\.\d+", args["K8S_HUB_VERSION"])  # a z2jh 4.x release
    assert ("COPY", "--from=builder /out/japps-*.whl /tmp/japps/") in steps
    assert "pip install --no-cache-dir /tmp/japps/japps-*.whl" in runs(stages["hub"])
    assert "japps --version" in runs(stages["hub"])
    # the hub runs as z2jh runs it, not as root
    assert [rest for word, rest in steps if word == "USER"][-1] == "1000"
    # the JupyterHub installed with it is one japps is tested with (scripts/versions.sh)
    [version] = [rest.partition("=")[2] for word, rest in steps if word == "ARG"
                 and rest.startswith("JUPYTERHUB_VERSION=")]
    tested = re.search(r'^HUB_VERSIONS="([^"]*)"', (ROOT / "scripts" / "versions.sh").read_text(),
                       re.M).group(1).split()
    assert version in tested


def test_the_launcher_image_is_what_launcher_image_expects():
    _, stages = dockerfile_stages()
    image, steps = stages["launcher"]
    assert image.startswith("busybox:")  # has the `cp` the init container runs
    assert ("COPY", f"--from=builder /out/japps {LAUNCHER_IN_IMAGE}") in steps
    assert "install -m 0755 /tmp/wheel/japps-*.data/scripts/japps /out/japps" in runs(
        stages["builder"]
    )


def test_rust_of_the_builder_is_new_enough():
    args, _ = dockerfile_stages()
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    needed = tuple(int(n) for n in cargo["workspace"]["package"]["rust-version"].split("."))
    have = tuple(int(n) for n in args["RUST_VERSION"].split("."))
    assert have >= needed


def test_the_build_context_has_what_the_wheel_is_made_of():
    kept = {line[1:] for line in DOCKERIGNORE.read_text().splitlines() if line.startswith("!")}
    assert "*" in DOCKERIGNORE.read_text().splitlines()  # everything else left out
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    maturin = project["tool"]["maturin"]
    needed = {
        "Cargo.toml",
        "Cargo.lock",
        "pyproject.toml",
        project["project"]["readme"],
        maturin["manifest-path"].split("/")[0],
        maturin["python-source"],
        "scripts",
    }
    assert needed <= kept
    assert not kept & {"target", ".cache", "dist", ".git"}


def test_docs_say_what_was_not_run():
    text = (ROOT / "deploy" / "README.md").read_text()
    assert "What was checked here" in text
    assert "Not run here (no Kubernetes cluster, no Docker, no Helm" in text
    assert "python/tests/test_deploy.py" in text


REPLICAS = ROOT / "deploy" / "k8s" / "japps-replicas.yaml"


def replicas_manifest():
    return {doc["kind"]: doc for doc in yaml.safe_load_all(REPLICAS.read_text())}


def test_replicas_run_japps_serve_from_the_service_env_secret():
    deployment = replicas_manifest()["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["japps", "serve"]
    assert container["envFrom"] == [{"secretRef": {"name": "japps-env"}}]
    # The same image as the hub's: the Dockerfile's hub stage holds the binary.
    assert container["image"].split(":")[0].endswith("japps-hub")
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/services/japps/status"
    # z2jh's hub NetworkPolicy admits pods with this label to the hub API.
    assert pod["metadata"]["labels"]["hub.jupyter.org/network-access-hub"] == "true"
    docs = (ROOT / "deploy" / "README.md").read_text()
    assert "secret generic japps-env --from-env-file=japps.env" in docs


def test_replicas_ports_agree_with_the_documented_service_url():
    manifest = replicas_manifest()
    deployment, service, policy = (manifest[k] for k in ("Deployment", "Service", "NetworkPolicy"))
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (port,) = container["ports"]
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": port["containerPort"]}]
    docs = (ROOT / "deploy" / "README.md").read_text()
    url = f'http://{service["metadata"]["name"]}:{service_port["port"]}'
    assert f'c.JAppsConfig.service_url = "{url}"' in docs
    # service-env's JAPPS_BIND_URL listens on the service_url's port.
    assert service_port["port"] == port["containerPort"]

"""The japps wheel as an operator uses it: run by scripts/test-wheel with the Python of a
fresh venv holding only JupyterHub, the proxy and the wheel, with no Rust and nothing of
japps on PATH. Starts a hub whose config names nothing of japps but `install_jhub_apps`,
then checks the service's status and a real app run by the bundled launcher, through the
hub's proxy. Exits non-zero with the hub's log on any failure."""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


CONFIG = """
import os, sys
from jupyterhub.spawner import SimpleLocalProcessSpawner
from japps import install_jhub_apps

c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{public}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.ConfigurableHTTPProxy.command = [os.path.join(sys.prefix, "bin", "configurable-http-proxy")]
c.JupyterHub.db_url = "sqlite:///{dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{dir}/jupyterhub_cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.SimpleLocalProcessSpawner.home_dir_template = "{dir}/home/{{username}}"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.JAppsConfig.service_port = {service}
c.JupyterHub.services = [{{"name": "smoke-admin", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [{{"name": "smoke-admin", "services": ["smoke-admin"],
                             "scopes": ["admin:users", "admin:servers", "tokens"]}}]
install_jhub_apps(c, SimpleLocalProcessSpawner)
"""


def wait(what, check, timeout=90):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except requests.RequestException as err:
            last = err
        time.sleep(0.5)
    raise SystemExit(f"wheel smoke test: timed out waiting until {what} ({last})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--echo-app", required=True)
    parser.add_argument("--expect-revision", required=True)
    args = parser.parse_args()
    workdir = args.dir
    public, hub_port, proxy_api, service = free_ports(4)
    token = secrets.token_hex(16)
    config = workdir / "jupyterhub_config.py"
    config.write_text(
        CONFIG.format(
            public=public, hub=hub_port, proxy_api=proxy_api, service=service,
            dir=workdir, token=token,
        )
    )
    for tool in ("cargo", "rustc", "japps"):
        if any((Path(d) / tool).exists() for d in os.environ["PATH"].split(os.pathsep)):
            raise SystemExit(f"wheel smoke test: {tool} is on PATH; it must not be")
    log = open(workdir / "hub.log", "w")
    hub = subprocess.Popen(
        [os.path.join(sys.prefix, "bin", "jupyterhub"), "-f", str(config)],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{public}"
    admin = {"Authorization": f"token {token}"}
    try:
        wait("the hub answers", lambda: requests.get(f"{base}/hub/api/", timeout=5).ok)
        status = wait(
            "the japps service answers",
            lambda: (r := requests.get(f"{base}/services/japps/status", timeout=5)).ok and r.json(),
        )
        print(f"wheel smoke test: service status {status}")
        assert status["status"] == "ok", status
        assert status["revision"] == args.expect_revision, status

        requests.post(f"{base}/hub/api/users/alice", headers=admin, timeout=10).raise_for_status()
        alice = requests.post(
            f"{base}/hub/api/users/alice/tokens", headers=admin, json={}, timeout=10
        ).json()["token"]
        as_alice = {"Authorization": f"token {alice}"}
        command = f"{sys.executable} {args.echo_app} --port {{port}} --root-path {{root_path}}"
        data = {"servername": "smoke", "user_options": {
            "display_name": "Smoke", "framework": "custom", "custom_command": command}}
        answer = requests.post(
            f"{base}/services/japps/server", headers=as_alice,
            files={"data": (None, json.dumps(data))}, timeout=60,
        )
        assert answer.ok, answer.text
        name = answer.json()[1]
        app = f"{base}/user/alice/{name}/"
        phase = wait(
            "the app is ready",
            lambda: (r := requests.get(f"{app}_japps/api/status", headers=as_alice, timeout=5)).ok
            and r.json()["phase"] == "ready" and r.json(),
        )
        print(f"wheel smoke test: launcher says {phase}")
        page = requests.get(app, headers=as_alice, timeout=10)
        assert page.status_code == 200 and "echo app" in page.text, (page.status_code, page.text)
        print("wheel smoke test: the app answers through the hub's proxy")
    except BaseException:
        log.flush()
        sys.stderr.write((workdir / "hub.log").read_text()[-20000:])
        raise
    finally:
        os.killpg(hub.pid, signal.SIGTERM)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()

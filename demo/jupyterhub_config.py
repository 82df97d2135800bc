# The japps demo hub: JupyterHub on http://127.0.0.1:8000 with japps, sqlite and the
# DummyAuthenticator (any user name, any password). Started by scripts/demo, which sets
# JAPPS_BIN and runs this from .cache/demo/ (database, cookie secret and logs live there).
import os
import sys

from jupyterhub.spawner import SimpleLocalProcessSpawner

from japps import install_jhub_apps

c = get_config()  # noqa: F821

# Ports can be moved (the tests run this file on free ports).
port = int(os.environ.get("JAPPS_DEMO_PORT", "8000"))
c.JupyterHub.bind_url = f"http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('JAPPS_DEMO_HUB_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{os.environ.get('JAPPS_DEMO_PROXY_API_PORT', '8001')}"
)
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
# The Node configurable-http-proxy (scripts/setup-node-proxy), as production hubs run:
# the pure-Python one JupyterHub can also use drops WebSocket subprotocols, which leaves
# Panel, Bokeh and Streamlit apps blank, and holds back server-sent events.
c.ConfigurableHTTPProxy.command = [
    os.environ.get("JAPPS_DEMO_PROXY")
    or os.path.join(sys.prefix, "bin", "configurable-http-proxy")
]

c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"admin"}
# The users the example apps belong to and are shared with exist from the start.
c.JupyterHub.load_groups = {"demo-users": {"users": ["demo", "alice"]}}

# Apps and the default server run from the frameworks environment scripts/demo prepares
# (Panel, Bokeh, Streamlit, Dash, Voila, Gradio, JupyterLab): apps through `japps launch`,
# the default server as JupyterLab.
apps_python = os.environ.get("JAPPS_DEMO_PYTHON", "python")
c.JAppsConfig.python_exec = apps_python
c.Spawner.cmd = [apps_python, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
if os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]
c.SimpleLocalProcessSpawner.home_dir_template = os.path.abspath("home/{username}")

c.JAppsConfig.japps_bin = os.environ.get("JAPPS_BIN", "japps")
c.JAppsConfig.service_port = int(os.environ.get("JAPPS_DEMO_SERVICE_PORT", "10202"))
c.JAppsConfig.app_title = "japps demo"
c.JAppsConfig.additional_services = [
    {"name": "JupyterHub docs", "url": "https://jupyterhub.readthedocs.io", "pinned": True},
]
c.JAppsConfig.startup_apps = [
    {
        "username": "demo",
        "servername": "panel-example",
        "user_options": {
            "jhub_app": True,
            "display_name": "Panel example",
            "description": "The built-in Panel example app.",
            "framework": "panel",
            "filepath": "",
            "public": False,
            "keep_alive": False,
            "share_with": {"users": ["alice"], "groups": []},
        },
    },
    {
        "username": "demo",
        "servername": "streamlit-example",
        "user_options": {
            "jhub_app": True,
            "display_name": "Streamlit example",
            "description": "The built-in Streamlit example app.",
            "framework": "streamlit",
            "filepath": "",
            "public": True,
            "keep_alive": False,
        },
    },
    {
        "username": "demo",
        "servername": "dash-example",
        "user_options": {
            "jhub_app": True,
            "display_name": "Dash example",
            "description": "The built-in Plotly Dash example app.",
            "framework": "plotlydash",
            "filepath": "",
            "public": False,
            "keep_alive": False,
            "share_with": {"users": [], "groups": ["demo-users"]},
        },
    },
]
c.JupyterHub.template_vars = {"hub_title": "japps demo"}

install_jhub_apps(c, SimpleLocalProcessSpawner, oauth_no_confirm=True)

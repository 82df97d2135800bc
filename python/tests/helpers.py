import asyncio
import json
import os


def japps_service(c):
    [service] = [s for s in c.JupyterHub.services if s["name"] == "japps"]
    return service


def japps_config(c):
    return json.loads(japps_service(c)["environment"]["JAPPS_CONFIG"])


def role(c, name):
    [r] = [r for r in c.JupyterHub.load_roles if r["name"] == name]
    return r


def start_hub(c):
    """A JupyterHub initialised from config ``c`` (in-memory database, no
    proxy or HTTP server), as far as roles, users and services."""
    from jupyterhub.app import JupyterHub

    c.JupyterHub.db_url = "sqlite://"
    c.JupyterHub.cookie_secret = os.urandom(32)
    c.JupyterHub.authenticator_class = "dummy"
    c.Authenticator.allowed_users = {"alice", "bob"}
    app = JupyterHub(config=c)

    async def init():
        app.init_db()
        app.init_hub()
        app.init_oauth()
        await app.init_role_creation()
        await app.init_users()
        await app.init_groups()
        app.init_services()
        await app.init_api_tokens()
        await app.init_role_assignment()

    asyncio.run(init())
    return app

import json


def japps_service(c):
    [service] = [s for s in c.JupyterHub.services if s["name"] == "japps"]
    return service


def japps_config(c):
    return json.loads(japps_service(c)["environment"]["JAPPS_CONFIG"])


def role(c, name):
    [r] = [r for r in c.JupyterHub.load_roles if r["name"] == name]
    return r

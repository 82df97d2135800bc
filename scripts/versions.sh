# Versions of the outside pieces the tests and the demo run against. Sourced by the scripts.
# JupyterHub: the newest 5.5.x (sharing needs >= 5.5.1) and the newest 6.1.x.
HUB_VERSIONS="5.5.4 6.1.1"
# The hub version the demo runs.
DEMO_HUB_VERSION="6.1.1"
# The pure-Python port of configurable-http-proxy: a real proxy without Node.
CHP_VERSION="0.4.0"
# Test-only Python packages (the hub's mock single-user server needs requests; the
# spawners japps wraps in python/tests/test_container_spawners.py).
PY_TEST_PACKAGES="requests>=2.32,<3 pytest>=8,<10 jupyterhub-kubespawner==7.1.0 dockerspawner==14.0.0 jupyterhub-systemdspawner==1.0.2"

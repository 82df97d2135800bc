"""japps hub plugin: ``install_jhub_apps(c, SpawnerClass)`` in a jupyterhub_config.py."""

from .config import JAppsConfig
from .install import HUB_TEMPLATES, LANDING_TEMPLATES, install_jhub_apps
from .spawner import subclass_spawner

# jhub-apps' name for its hub templates, which its documentation has operators assign to
# c.JupyterHub.template_paths; install_jhub_apps sets them up by itself.
theme_template_paths = [LANDING_TEMPLATES, HUB_TEMPLATES]

__version__ = "0.1.0"
__all__ = [
    "JAppsConfig",
    "__version__",
    "install_jhub_apps",
    "subclass_spawner",
    "theme_template_paths",
]

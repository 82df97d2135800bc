"""japps hub plugin: ``install_jhub_apps(c, SpawnerClass)`` in a jupyterhub_config.py."""

from .config import JAppsConfig
from .install import install_jhub_apps
from .spawner import subclass_spawner

__version__ = "0.1.0"
__all__ = ["JAppsConfig", "__version__", "install_jhub_apps", "subclass_spawner"]

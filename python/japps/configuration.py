"""jhub-apps' module path for ``install_jhub_apps``: a jhub-apps configuration that says
``from jhub_apps.configuration import install_jhub_apps`` works with ``japps`` in place of
``jhub_apps``."""

from .install import install_jhub_apps

__all__ = ["install_jhub_apps"]

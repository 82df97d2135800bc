"""The spawner japps installs: the admin's spawner, with apps run by ``japps launch``.

``install_jhub_apps(c, SpawnerClass)`` sets ``c.JupyterHub.spawner_class`` to
``subclass_spawner(SpawnerClass)``. A server whose ``user_options`` has
``jhub_app: true`` (an app japps created) then runs::

    <launcher_bin> launch <launcher_args...>

with the app definition in ``JAPPS_APP`` (compact JSON) and the app's own
``user_options.env`` on top of the base environment. Every other server (the
default JupyterLab, ...) spawns exactly as the base spawner would.

Where the changes are made:

- ``start()``: sets ``cmd`` (every spawner builds its command from it: local
  processes, KubeSpawner, DockerSpawner) and ``image`` (``profile_image``),
  unless the base loads profiles in ``load_user_options()``.
- ``load_user_options()``, only when the base has one (KubeSpawner): KubeSpawner
  calls it at the top of its own start and applies the selected profile's
  ``kubespawner_override`` there, which may set ``cmd`` and ``image``; japps
  applies ``cmd`` and ``profile_image`` again after it, so the app's choices win.
  JupyterHub's ``apply_user_options`` hook (5.3+) runs before ``start()``, so
  before the profile: too early for the image.
- ``get_args()``: nothing for apps. ``Spawner.args`` are the operator's
  arguments for Jupyter servers (``--allow-root``, ``--debug``, ...), which
  ``japps launch`` does not take; settings for apps go in ``launcher_args``.
- ``get_env()``: ``JAPPS_APP``, ``JAPPS_SERVICE_VERSION`` (the service binary's
  version, for the launcher to compare) and ``user_options.env``.
- ``_run_apply_user_options()`` (JupyterHub 5.3+): an operator's
  ``apply_user_options`` hook still runs for apps; without one, the hub's
  "Received unhandled user_options" warning is left out for apps.

Values the app changed (``cmd``, ``image``) are put back at the next start, so
a server that stops being an app spawns as configured again.
"""

import inspect
import json
import logging

from .config import JAppsConfig
from .version import binary_version

# Child of the hub's own logger, so messages come out in the hub's log format.
log = logging.getLogger("JupyterHub.japps")

# Where an app pod's init container puts the binary from c.JAppsConfig.launcher_image.
LAUNCHER_VOLUME = "japps-launcher"
LAUNCHER_DIR = "/opt/japps"
LAUNCHER_IN_IMAGE = "/usr/local/bin/japps"

# The variable `japps launch` reads the app definition from.
APP_ENV = "JAPPS_APP"
# The service's japps version, for the launcher to compare with its own.
SERVICE_VERSION_ENV = "JAPPS_SERVICE_VERSION"

# The user_options keys `japps launch` needs. Never the thumbnail or the
# description: they can be large, and one environment string is limited to
# 128 KiB on Linux (MAX_ARG_STRLEN). Must equal LAUNCHER_KEYS in
# crates/japps-domain/src/app.rs (a Rust test compares them).
APP_KEYS = (
    "framework",
    "display_name",
    "filepath",
    "custom_command",
    "conda_env",
    "keep_alive",
    "public",
    "repository",
)
MAX_APP_ENV_BYTES = 100 * 1024

# user_options.env may not set these: the hub's API URL and token, the OAuth
# client and the server's URLs belong to the hub (an app redirecting them could
# hand the server's token to another host), and JAPPS_APP to the plugin.
# jhub-apps let user env override everything. The service refuses such apps
# when they are saved (crates/japps-domain/src/app.rs); this covers apps stored
# before that.
REFUSED_ENV_PREFIXES = ("JUPYTERHUB_", "JPY_")

# base class -> its japps subclass, so installing twice does not wrap twice.
_subclasses = {}


def resolve_spawner_class(spawner_class):
    """The spawner class for ``spawner_class`` as ``c.JupyterHub.spawner_class``
    accepts it: a Spawner subclass, the name of an installed spawner
    (``"simple"``, ``"localprocess"``, ``"docker"``, from the
    ``jupyterhub.spawners`` entry points, any case) or an import string
    (``"kubespawner.KubeSpawner"``).

    Resolved with JupyterHub's own trait type, so a value means the same as it
    would in ``c.JupyterHub.spawner_class``.
    """
    from jupyterhub.spawner import Spawner
    from jupyterhub.traitlets import EntryPointType
    from traitlets import TraitError

    trait = EntryPointType(klass=Spawner, entry_point_group="jupyterhub.spawners")
    trait.name = "spawner_class"
    try:
        return trait.validate(None, spawner_class)
    except TraitError as err:
        names = ", ".join(sorted(trait.load_entry_points())) or "none"
        cause = err.__cause__ or err
        raise ValueError(
            f"install_jhub_apps: spawner_class {spawner_class!r} is not a Spawner "
            f"subclass, an installed spawner ({names}) or an importable "
            f"'module.Class' name: {cause}"
        ) from None


def subclass_spawner(base):
    """``JAppsSpawner(base)``: ``base`` with japps apps run by ``japps launch``.

    One subclass per base (calling it twice returns the same class); a class
    that already is one (or derives from one) is returned as it is.
    """
    if not isinstance(base, type):
        raise TypeError(f"subclass_spawner: expected a class, got {base!r}")
    if issubclass(base, JAppsSpawnerMixin):
        return base
    cls = _subclasses.get(base)
    if cls is None:
        namespace = {
            "__module__": __name__,
            "__qualname__": "JAppsSpawner",
            "__doc__": f"{base.__name__} running japps apps with `japps launch`.",
            "_japps_base": base,
            # The image is applied after the profile, where the base loads it.
            "_japps_image_in_start": not hasattr(base, "load_user_options"),
        }
        if hasattr(base, "_run_apply_user_options"):
            namespace["_run_apply_user_options"] = JAppsSpawnerMixin._japps_run_apply_user_options
        if hasattr(base, "load_user_options"):
            hook = base.load_user_options
            namespace["load_user_options"] = (
                JAppsSpawnerMixin._japps_load_user_options_async
                if inspect.iscoroutinefunction(hook)
                else JAppsSpawnerMixin._japps_load_user_options_sync
            )
        cls = type("JAppsSpawner", (JAppsSpawnerMixin, base), namespace)
        _subclasses[base] = cls
    return cls


class JAppsSpawnerMixin:
    """The japps part of ``JAppsSpawner``; see the module documentation."""

    _japps_base = None
    _japps_image_in_start = True
    _japps_warned_no_image = False
    _japps_warned_no_init_containers = False

    # --- the hooks ---------------------------------------------------------

    def start(self):
        # Not async: the base's start() may return a coroutine or a future
        # (KubeSpawner keeps that future for progress()); it is returned as is.
        self._japps_restore()
        if self._japps_is_app():
            config = self._japps_config()
            # Refuse an oversized definition before anything is started.
            self._japps_app_json(config)
            self._japps_apply(config, image=self._japps_image_in_start)
        return super().start()

    async def _japps_load_user_options_async(self):
        result = super().load_user_options()
        if inspect.isawaitable(result):
            await result
        if self._japps_is_app():
            self._japps_apply(self._japps_config(), image=True)

    def _japps_load_user_options_sync(self):
        result = super().load_user_options()
        if self._japps_is_app():
            self._japps_apply(self._japps_config(), image=True)
        return result

    async def _japps_run_apply_user_options(self, user_options, *args, **kwargs):
        # JupyterHub 5.3+ runs c.Spawner.apply_user_options before start(), and
        # without one warns "Received unhandled user_options" at every start.
        # An app's options are japps' to handle: no hook, no warning.
        if getattr(self, "apply_user_options", None) is None and self._japps_is_app():
            return None
        result = super()._run_apply_user_options(user_options, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def get_args(self):
        if self._japps_is_app():
            return []
        return super().get_args()

    def get_env(self):
        env = super().get_env()
        if not self._japps_is_app():
            return env
        config = self._japps_config()
        env[APP_ENV] = self._japps_app_json(config)
        service_version = binary_version(config.japps_bin)
        if service_version:
            env[SERVICE_VERSION_ENV] = service_version
        env.update(self._japps_user_env())
        return env

    # --- helpers -----------------------------------------------------------

    def _japps_is_app(self):
        options = self.user_options
        return isinstance(options, dict) and options.get("jhub_app") is True

    def _japps_config(self):
        # Read at spawn time from the hub's config, which the spawner carries.
        return JAppsConfig(parent=self)

    def _japps_name(self):
        return getattr(self, "_log_name", None) or f"{self.user.name}:{self.name}"

    def _japps_command(self, config):
        program = config.launcher_bin
        if self._japps_launcher_image(config):
            program = f"{LAUNCHER_DIR}/japps"
        return [program, "launch", *config.launcher_args, *_policy_args(config)]

    def _japps_apply(self, config, *, image):
        self._japps_set("cmd", self._japps_command(config))
        if self._japps_launcher_image(config):
            self._japps_apply_launcher_volume(config)
        if image:
            self._japps_apply_image(config)

    def _japps_launcher_image(self, config):
        """The launcher image, when it is set and this spawner makes pods."""
        if not config.launcher_image:
            return None
        if not self.has_trait("init_containers"):
            cls = type(self)
            if not cls._japps_warned_no_init_containers:
                cls._japps_warned_no_init_containers = True
                log.warning(
                    "japps: c.JAppsConfig.launcher_image is for KubeSpawner; %s has no "
                    "init containers, so apps run launcher_bin %r",
                    self._japps_base.__name__,
                    config.launcher_bin,
                )
            return None
        return config.launcher_image

    def _japps_apply_launcher_volume(self, config):
        """An init container copies the binary from the launcher image into a volume
        the app's container runs it from. Added to whatever the profile set."""
        init = {
            "name": LAUNCHER_VOLUME,
            "image": config.launcher_image,
            "command": ["cp", LAUNCHER_IN_IMAGE, f"{LAUNCHER_DIR}/japps"],
            "volumeMounts": [{"name": LAUNCHER_VOLUME, "mountPath": LAUNCHER_DIR}],
        }
        volume = {"name": LAUNCHER_VOLUME, "emptyDir": {}}
        mount = {"name": LAUNCHER_VOLUME, "mountPath": LAUNCHER_DIR, "readOnly": True}
        for trait, item in (
            ("init_containers", init),
            ("volumes", volume),
            ("volume_mounts", mount),
        ):
            current = getattr(self, trait)
            if isinstance(current, dict):  # KubeSpawner also takes {key: item}
                current = list(current.values())
            kept = [entry for entry in current or [] if _name_of(entry) != LAUNCHER_VOLUME]
            self._japps_set(trait, [*kept, item])

    def _japps_apply_image(self, config):
        image = self.user_options.get("profile_image")
        if image is None or image == "":
            return
        if not isinstance(image, str) or not image.strip():
            log.warning(
                "japps: %s: ignoring user_options.profile_image %r (not an image name)",
                self._japps_name(),
                image,
            )
            return
        image = image.strip()
        if not config.allow_profile_image:
            log.warning(
                "japps: %s: ignoring user_options.profile_image %r: custom images "
                "are not allowed (c.JAppsConfig.allow_profile_image)",
                self._japps_name(),
                image,
            )
            return
        if not self.has_trait("image"):
            cls = type(self)
            if not cls._japps_warned_no_image:
                cls._japps_warned_no_image = True
                log.warning(
                    "japps: %s has no 'image' setting; user_options.profile_image "
                    "is ignored for its apps",
                    self._japps_base.__name__,
                )
            return
        self._japps_set("image", image)
        log.info("japps: %s runs in image %s (profile_image)", self._japps_name(), image)

    def _japps_set(self, name, value):
        """Set a trait for this start, keeping the configured value to restore."""
        saved = self.__dict__.setdefault("_japps_saved", {})
        if name not in saved:
            saved[name] = getattr(self, name)
        setattr(self, name, value)

    def _japps_restore(self):
        saved = self.__dict__.get("_japps_saved")
        while saved:
            name, value = saved.popitem()
            setattr(self, name, value)

    def _japps_app_json(self, config):
        """``JAPPS_APP``: the app's definition, compact JSON."""
        options = self.user_options
        app = {key: options[key] for key in APP_KEYS if key in options}
        app["python_exec"] = config.python_exec
        try:
            text = json.dumps(app, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as err:
            raise _spawn_error(
                f"japps: the options of app {self._japps_name()} are not JSON: {err}"
            ) from None
        size = len(text.encode())
        if size > MAX_APP_ENV_BYTES:
            raise _spawn_error(
                f"japps: the definition of app {self._japps_name()} is {size} bytes "
                f"as JSON, more than the {MAX_APP_ENV_BYTES} an environment variable "
                "can safely carry; shorten its command, name or file path"
            )
        return text

    def _japps_user_env(self):
        """``user_options.env`` minus what only the hub and japps may set."""
        raw = self.user_options.get("env")
        if raw is None:
            return {}
        name = self._japps_name()
        if not isinstance(raw, dict):
            log.warning("japps: %s: ignoring user_options.env (not a dict)", name)
            return {}
        env, refused, invalid = {}, [], []
        for key, value in raw.items():
            if not isinstance(key, str) or not key or "=" in key or "\0" in key:
                invalid.append(repr(key))
            elif key.upper() == APP_ENV or key.upper().startswith(REFUSED_ENV_PREFIXES):
                refused.append(key)
            elif not isinstance(value, str) or "\0" in value:
                invalid.append(key)
            else:
                env[key] = value
        if refused:
            log.warning(
                "japps: %s: ignoring user_options.env %s: only the hub and japps set "
                "JUPYTERHUB_*, JPY_* and JAPPS_APP",
                name,
                ", ".join(sorted(refused)),
            )
        if invalid:
            log.warning(
                "japps: %s: ignoring user_options.env %s: names and values must be "
                "strings without '=' in names and without NUL",
                name,
                ", ".join(sorted(invalid)),
            )
        return env


def _policy_args(config):
    """The operator's rules, last on the command line so they win over launcher_args;
    the launcher never takes them from an app's JHUB_APP_PROXY_ARGS."""
    args = []
    if not config.allow_public_apps:
        args.append("--allow-public=false")
    if not config.allow_keep_alive:
        args.append("--allow-keep-alive=false")
    if config.launcher_args_final and config.launcher_args:
        args.append("--launcher-args-final")
    return args


def _name_of(entry):
    if isinstance(entry, dict):
        return entry.get("name")
    return getattr(entry, "name", None)


def _spawn_error(message):
    """An error the hub reports to the user without a traceback (HTTP 400)."""
    from tornado import web

    return web.HTTPError(400, "%s", message)

"""``install_jhub_apps``: wire japps into a JupyterHub config."""

import inspect
import json
import logging
import os
import secrets
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from traitlets.config import LazyConfigValue

from .config import SERVICE_API_TOKEN_ENV, JAppsConfig
from .spawner import resolve_spawner_class, subclass_spawner
from .version import warn_if_versions_differ

# Child of the hub's own logger, so messages come out in the hub's log format.
log = logging.getLogger("JupyterHub.japps")

SERVICE_NAME = "japps"

# The hub's pages in japps' look (page.html and what builds on it), and the home page
# that hands over to japps' home; both directories name the service as SERVICE_NAME.
TEMPLATES = Path(__file__).parent / "templates"
HUB_TEMPLATES = str(TEMPLATES / "hub")
LANDING_TEMPLATES = str(TEMPLATES / "landing")
SERVICE_ROLE = "japps-service"

# What the service does with its own token: reads for pages and background
# work, admin:servers for startup apps, shares for share bookkeeping. No
# `tokens`: japps never mints tokens.
SERVICE_SCOPES = [
    "list:users",
    "read:users",
    "list:groups",
    "read:groups",
    "admin:servers",
    "admin:auth_state",
    "list:services",
    "read:services",
    "shares",
]

# Unfiltered on purpose: the hub intersects them with what the user holds, so
# the user's token carries exactly the user's own permissions, including
# grants on other users' servers that a filter such as `servers!user` would
# cut off. Never `start:servers`: it does not exist on 5.x, and an unknown
# scope here makes every login fail there.
CLIENT_SCOPES = [
    "servers",
    "shares",
    "read:users:name",
    "read:groups:name",
    "read:users:shares",
]

LOGIN_SCOPE = f"access:services!service={SERVICE_NAME}"
SHARING_SCOPES = ["shares!user", "read:users:name", "read:groups:name"]

# A managed service only inherits a handful of variables from the hub
# (PATH, LANG, ...), so anything else the service needs is passed explicitly.
# PYTHONPATH: the service runs the hub's Python to evaluate callables in this
# config, which must import what the hub imports.
PASS_THROUGH_ENV = ("RUST_LOG", "JAPPS_LOG_FORMAT", "PYTHONPATH")
# An external replica runs elsewhere, with its own Python and paths: no PYTHONPATH.
EXTERNAL_PASS_THROUGH_ENV = ("RUST_LOG", "JAPPS_LOG_FORMAT")

# Settings for the hub only, left out of JAPPS_CONFIG: the token is a secret, and
# replicas get both as JUPYTERHUB_API_TOKEN and JUPYTERHUB_SERVICE_URL.
HUB_ONLY_TRAITS = ("service_api_token", "service_url")

# What JupyterHub accepts as a service's api_token (orm.Hashed.check_token,
# utils._TOKEN_MAX_LEN); outside it the hub refuses to start.
SERVICE_TOKEN_MIN_CHARS = 8
SERVICE_TOKEN_MAX_CHARS = 64

# Where the service listens when hub_host is not a loopback address.
BIND_ENV = "JAPPS_BIND_URL"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

# The hub's interpreter, for the service to evaluate callable settings with.
PYTHON_ENV = "JAPPS_PYTHON"

# Set by japps.evaluate while it loads this config to evaluate a callable:
# install_jhub_apps then leaves out what only the hub itself should do.
EVALUATE_ENV = "JAPPS_EVALUATE"

# The key of the service's session cookie. The jhub-apps name, so that an
# upgraded deployment keeps its key (and jhub-apps' cookies stay valid).
SESSION_KEY_ENV = "JHUB_APP_JWT_SECRET_KEY"
SESSION_KEY_MIN_CHARS = 32

# Linux refuses to exec a process with any single environment string over
# 128 KiB (MAX_ARG_STRLEN); fail at config load instead of at service start.
MAX_CONFIG_ENV_BYTES = 128 * 1024 - len("JAPPS_CONFIG=") - 1


def install_jhub_apps(c, spawner_class=None, *, oauth_no_confirm=False, spawner_to_subclass=None):
    """Register the japps service, its roles and named servers in config ``c``.

    ``spawner_class`` is what ``c.JupyterHub.spawner_class`` accepts (a class,
    an installed spawner's name such as ``"simple"``, or ``"module.Class"``);
    the hub gets ``subclass_spawner`` of it, which runs apps with
    ``japps launch`` and every other server as the class itself would.
    ``spawner_to_subclass`` is jhub-apps' name for it.

    Safe to call more than once. Returns ``c``.
    """
    if spawner_to_subclass is not None:
        if spawner_class is not None:
            raise TypeError(
                "install_jhub_apps: give spawner_class or spawner_to_subclass, not both"
            )
        spawner_class = spawner_to_subclass
    if spawner_class is None:
        raise TypeError("install_jhub_apps: the spawner class is required")
    cfg = JAppsConfig(config=c)
    hub = c.JupyterHub
    evaluating = bool(os.environ.get(EVALUATE_ENV))
    # The hub does not run an external service: japps_bin is not its business.
    external = bool(cfg.service_url)
    if external and not evaluating:
        # Evaluating a callable and the doctor need no token; the hub does.
        problem = service_token_problem(cfg.service_api_token)
        if problem:
            raise ValueError(problem)

    hub.allow_named_servers = True
    if evaluating:
        # Only the hub spawns: no need to import (e.g.) kubespawner to
        # evaluate a callable.
        hub.spawner_class = spawner_class
    else:
        hub.spawner_class = subclass_spawner(resolve_spawner_class(spawner_class))

    config_file = None if evaluating else _calling_config_file()
    if not evaluating and not external and shutil.which(cfg.japps_bin) is None:
        log.warning(
            "japps: %r is not an executable on PATH; the hub will fail to "
            "start the japps service (set c.JAppsConfig.japps_bin)",
            cfg.japps_bin,
        )

    if not evaluating:
        _warn_about_python_proxy(c)
    if not evaluating and not external:
        warn_if_versions_differ(cfg.japps_bin, cfg.launcher_bin)

    ours = [_service_spec(cfg, c, oauth_no_confirm, evaluating, config_file)]
    ours += [_additional_service_spec(s) for s in cfg.additional_services]
    names = [s["name"] for s in ours]
    if len(set(names)) != len(names):
        raise ValueError(
            "JAppsConfig.additional_services: service names must be unique "
            f"and must not be {SERVICE_NAME!r}, got {names[1:]}"
        )
    # Entries with our names are ours to replace; that also makes a second
    # call a no-op.
    services = [s for s in _configured(hub, "services", []) or [] if s.get("name") not in names]
    hub.services = services + ours

    user_scopes = [LOGIN_SCOPE]
    if cfg.grant_sharing_scopes:
        user_scopes += SHARING_SCOPES
    roles = [dict(r) for r in _configured(hub, "load_roles", []) or []]
    _merge_role(roles, SERVICE_ROLE, SERVICE_SCOPES, services=[SERVICE_NAME])
    # Defining `user` replaces the hub's default role: `self`, plus on 6.x
    # any extra_user_scopes, which 6.x ignores once `user` is defined. (That
    # setting would avoid redefining `user`, but 5.x lacks it.)
    extra = _configured(hub, "extra_user_scopes", set()) or []
    extra = list(extra) if isinstance(extra, list) else sorted(extra)
    _merge_role(roles, "user", user_scopes, default_scopes=["self", *extra])
    hub.load_roles = roles

    _install_pages(hub, cfg.keep_hub_home)
    _keep_service_on_hub_host(hub)
    return c


def _keep_service_on_hub_host(hub):
    """With ``subdomain_host``, JupyterHub 5+ serves each service on a host of its own
    (``japps--service.<host>``); japps stays on the hub's host instead, where the hub's
    pages and its landing (``default_url``) reach it by path and users' app hosts are
    other origins than both. Other services and users keep the configured hook.
    """
    current = _configured(hub, "subdomain_hook", None) or "idna"
    if getattr(current, "_japps_wrapped", None) is not None:
        current = current._japps_wrapped

    def subdomain_hook(name, domain, kind):
        if kind == "service" and name == SERVICE_NAME:
            return domain
        return _named_hook(current)(name, domain, kind)

    subdomain_hook._japps_wrapped = current
    hub.subdomain_hook = subdomain_hook


def _named_hook(hook):
    """JupyterHub's hook for its names ``idna``/``legacy``, or the operator's callable."""
    if callable(hook):
        return hook
    from jupyterhub import utils

    return utils.subdomain_hook_legacy if hook == "legacy" else utils.subdomain_hook_idna


def _install_pages(hub, keep_hub_home):
    """Put japps' templates in front of the operator's, and land users on japps' home.

    Prepended, so paths the operator adds after this call (or appends to) come first
    or are searched first by name; a later plain assignment replaces ours entirely.
    """
    ours = [HUB_TEMPLATES] if keep_hub_home else [LANDING_TEMPLATES, HUB_TEMPLATES]
    theirs = [
        p
        for p in _configured(hub, "template_paths", []) or []
        if p not in (HUB_TEMPLATES, LANDING_TEMPLATES)
    ]
    hub.template_paths = ours + theirs
    if keep_hub_home:
        return
    current = _configured(hub, "default_url", "")
    # jhub-apps' documented setting, "/hub/home", meant its launcher; it now costs an
    # extra hop through the hand-over page, so it becomes the launcher itself.
    if not current or current == _landing or (
        isinstance(current, str) and current.rstrip("/") in ("/hub/home", "/hub")
    ):
        hub.default_url = _landing


def _landing(handler):
    """japps' home under the hub's base_url: read per request, so a base_url set after
    install_jhub_apps counts too."""
    return f"{handler.base_url}services/{SERVICE_NAME}/"


def _service_spec(cfg, c, oauth_no_confirm, evaluating=False, config_file=None):
    if cfg.service_url:
        # External: the hub only registers the address and the token. No command and
        # no environment (the hub rejects keys it does not know, and would not pass
        # it on): `python -m japps service-env` prints what the replicas need.
        return {
            "name": SERVICE_NAME,
            "url": cfg.service_url,
            "api_token": cfg.service_api_token,
            "oauth_no_confirm": bool(oauth_no_confirm),
            "display": False,
            "oauth_client_allowed_scopes": list(CLIENT_SCOPES),
        }
    host = cfg.hub_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    # Evaluating a callable must not create (or even read) the key file.
    key = None if evaluating else _session_key(cfg)
    environment = service_environment(cfg, c, config_file, session_key=key)
    environment.setdefault(HOST_PREFIX_ENV, _cookie_host_prefix)
    return {
        "name": SERVICE_NAME,
        "url": f"http://{host}:{cfg.service_port}",
        "command": [cfg.japps_bin, "serve"],
        "environment": environment,
        "oauth_no_confirm": bool(oauth_no_confirm),
        "display": False,
        "oauth_client_allowed_scopes": list(CLIENT_SCOPES),
    }


HOST_PREFIX_ENV = "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"


def _cookie_host_prefix(spawner):
    """JupyterHub gives ``cookie_host_prefix_enabled`` to users' servers only, and its
    services always ``0``; the hub's own login cookie name says whether it is on, so
    japps' cookies get their ``__Host-`` prefix like the hub's."""
    return "1" if spawner.hub.cookie_name.startswith("__Host-") else "0"


def service_environment(cfg, c, config_file=None, *, session_key=None, base_dir=None):
    """The japps variables of the service's environment, managed or external.

    The ``JUPYTERHUB_*`` ones come from the hub (managed) or from
    ``python -m japps service-env`` (external). ``session_key`` None leaves
    JHUB_APP_JWT_SECRET_KEY out. ``base_dir`` is where relative paths in the
    config start (default: the working directory, the hub's).
    """
    external = bool(cfg.service_url)
    environment = {"JAPPS_CONFIG": _config_json(cfg, c, config_file, base_dir)}
    # A replica runs elsewhere, with its own interpreter (python_exec).
    if sys.executable and not external:
        environment[PYTHON_ENV] = sys.executable
    for name in EXTERNAL_PASS_THROUGH_ENV if external else PASS_THROUGH_ENV:
        if name in os.environ:
            environment[name] = os.environ[name]
    if session_key is not None:
        environment[SESSION_KEY_ENV] = session_key
    bind_url = _bind_url(cfg)
    if bind_url:
        environment.setdefault(BIND_ENV, bind_url)
    return environment


def _bind_url(cfg):
    """Where the service listens, when not at the address in its URL.

    The URL names how the hub and proxy reach the service (on Kubernetes a
    Service, an address the pod does not have): then it listens on every
    interface, as jhub-apps does, unless the operator said where.
    """
    if cfg.service_url:
        parts = urlsplit(cfg.service_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"http://0.0.0.0:{port}"
    if cfg.hub_host not in LOOPBACK_HOSTS:
        return f"http://0.0.0.0:{cfg.service_port}"
    return None


def service_token_problem(token):
    """Why the hub would refuse ``token`` as the external service's, or None.

    Never quotes the token.
    """
    where = f"c.JAppsConfig.service_api_token (or {SERVICE_API_TOKEN_ENV})"
    if not token:
        return (
            f"{where} is not set: the external japps service (c.JAppsConfig.service_url) "
            "needs a hub API token; make one with `openssl rand -hex 32`"
        )
    if len(token) < SERVICE_TOKEN_MIN_CHARS:
        return f"{where} is shorter than {SERVICE_TOKEN_MIN_CHARS} characters"
    if len(token) > SERVICE_TOKEN_MAX_CHARS:
        return f"{where} is longer than {SERVICE_TOKEN_MAX_CHARS} characters"
    return None


def _session_key(cfg):
    """The session key: JHUB_APP_JWT_SECRET_KEY from the hub's environment,
    else the content of cookie_secret_file, created on first use.

    Never logged, and never part of an error message.
    """
    # Empty counts as unset, as in the service.
    key = os.environ.get(SESSION_KEY_ENV)
    if key:
        return key
    path = os.path.abspath(cfg.cookie_secret_file)
    try:
        # Created 0600 from the start: no moment where others could read it.
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return _read_session_key(path)
    except OSError as err:
        raise ValueError(
            f"JAppsConfig.cookie_secret_file: cannot create {path}: {err.strerror}"
        ) from None
    key = secrets.token_hex(32)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
    except BaseException:
        # An empty or partial file would be refused at the next start.
        os.unlink(path)
        raise
    log.info("japps: created the session key file %s", path)
    return key


def _read_session_key(path):
    where = f"JAppsConfig.cookie_secret_file {path}"
    try:
        with open(path, encoding="utf-8") as f:
            # Checked on the open file, before reading a byte of it.
            if os.fstat(f.fileno()).st_mode & 0o077:
                raise ValueError(
                    f"{where} can be accessed by group or others; "
                    f"run 'chmod 600 {path}'"
                )
            key = f.read().strip()
    except (OSError, UnicodeDecodeError) as err:
        # Not the error itself: a decode error quotes the content.
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise ValueError(f"{where} cannot be read: {reason}") from None
    if not key:
        raise ValueError(f"{where} is empty; delete it to have a new key created")
    if len(key) < SESSION_KEY_MIN_CHARS:
        raise ValueError(
            f"{where} holds fewer than {SESSION_KEY_MIN_CHARS} characters; "
            "use a longer key, or delete the file to have one created"
        )
    return key


def _additional_service_spec(service):
    # The same shape jhub-apps registers, so GET /services shows them as
    # external links (no url at top level: the hub must not proxy them).
    info = {
        "name": service["name"],
        "description": service["description"],
        "url": service["url"],
        "external": True,
        "pinned": service["pinned"],
        "thumbnail": service["thumbnail"],
    }
    return {"name": service["name"], "display": True, "info": info}


def _config_json(cfg, c, config_file=None, base_dir=None):
    """JAPPS_CONFIG: every static trait value, plus the hub settings japps reads.

    Callables cannot travel as JSON; their names are listed under
    ``callables`` for the service to evaluate through Python, which re-reads
    this config from ``jupyterhub_config_path`` (made absolute here).
    """
    data = {}
    callables = []
    for name in sorted(cfg.trait_names(config=True)):
        if name in HUB_ONLY_TRAITS:
            continue
        value = getattr(cfg, name)
        if callable(value):
            callables.append(name)
            continue
        _require_json(value, f"c.JAppsConfig.{name}")
        data[name] = value
    data["jupyterhub_config_path"] = _config_path(cfg, c, config_file, base_dir)

    template_vars = _configured(c.JupyterHub, "template_vars", {})
    if template_vars is not None:
        data["template_vars"] = _json_items(template_vars)

    if "KubeSpawner" in c:
        profile_list = _configured(c.KubeSpawner, "profile_list", [])
        if callable(profile_list):
            callables.append("profile_list")
        elif profile_list is not None:
            if _is_json(profile_list):
                data["profile_list"] = profile_list
            else:
                log.warning(
                    "japps: c.KubeSpawner.profile_list holds values that are "
                    "not JSON; the service will read it through Python"
                )
                callables.append("profile_list")

    data["callables"] = sorted(callables)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > MAX_CONFIG_ENV_BYTES:
        raise ValueError(
            f"japps configuration is {len(text.encode())} bytes as JSON, more than "
            f"an environment variable can hold ({MAX_CONFIG_ENV_BYTES}); use "
            "thumbnail URLs instead of data URLs in startup_apps and "
            "additional_services"
        )
    return text


def _config_path(cfg, c, config_file, base_dir=None):
    """The absolute path of the hub's config file, for the service to re-read.

    An explicit ``jupyterhub_config_path`` is relative to the hub's working
    directory (``base_dir`` when given). Without one, the config file that is
    calling install_jhub_apps (e.g. ``jupyterhub -f
    /etc/jupyterhub/jupyterhub_config.py``) is the right file even when the hub
    runs elsewhere; the default name is the fallback.
    """
    if "jupyterhub_config_path" not in c.JAppsConfig and config_file:
        return os.path.abspath(config_file)
    return os.path.abspath(os.path.join(base_dir or "", cfg.jupyterhub_config_path))


def _calling_config_file():
    """The (main) config file whose code called install_jhub_apps, if any.

    traitlets runs a config file with ``get_config`` and ``load_subconfig`` in
    its globals and ``__file__`` set to the file; a module of the operator's
    that calls install_jhub_apps is not a config file and does not count.
    """
    found = None
    frame = inspect.currentframe()
    try:
        while frame is not None:
            names = frame.f_globals
            if "get_config" in names and "load_subconfig" in names and names.get("__file__"):
                # The outermost one: a sub-config loaded by the main file is not
                # the whole configuration.
                found = names["__file__"]
            frame = frame.f_back
    finally:
        del frame
    return found


def python_proxy(c):
    """The path of the hub's proxy if it is the pure-Python configurable-http-proxy
    (PyPI ``configurable-http-proxy``), else None.

    That proxy drops a WebSocket handshake's subprotocol, which leaves Panel,
    Bokeh and Streamlit apps blank, and holds server-sent events back. The Node
    one (npm ``configurable-http-proxy``) passes both.
    """
    proxy_class = _configured(c.JupyterHub, "proxy_class", None)
    name = getattr(proxy_class, "__name__", proxy_class)
    if name not in (None, "", "configurable-http-proxy", "ConfigurableHTTPProxy") and not (
        isinstance(name, str) and name.endswith(".ConfigurableHTTPProxy")
    ):
        return None
    command = _configured(c.ConfigurableHTTPProxy, "command", []) or ["configurable-http-proxy"]
    if isinstance(command, str):
        command = [command]
    program = shutil.which(command[0]) if command else None
    if program is None:
        return None
    try:
        with open(program, "rb") as script:
            first_line = script.readline(256)
    except OSError:
        return None
    if first_line.startswith(b"#!") and b"python" in first_line:
        return program
    return None


def _warn_about_python_proxy(c):
    program = python_proxy(c)
    if program:
        log.warning(
            "japps: the hub's proxy %s is the pure-Python configurable-http-proxy, which "
            "drops WebSocket subprotocols (Panel, Bokeh and Streamlit apps stay blank) and "
            "holds back server-sent events; install the Node one (npm install -g "
            "configurable-http-proxy) and set c.ConfigurableHTTPProxy.command to it",
            program,
        )


def _configured(section, key, empty):
    """The value of ``section.key`` if the config sets it, else None.

    Reading ``c.Section.key`` directly would create an empty placeholder
    (LazyConfigValue) in the config, and ``.append()``/``.update()`` calls
    made on such a placeholder must be applied to the trait's empty default.
    """
    if key not in section:
        return None
    value = section[key]
    if isinstance(value, LazyConfigValue):
        if not value.to_dict():
            return None
        value = value.get_value(empty)
    return value


def _merge_role(roles, name, scopes, default_scopes=(), **members):
    """Add scopes and members (e.g. services=[...]) to the named role,
    creating it if needed, without duplicating anything."""
    role = next((r for r in roles if r.get("name") == name), None)
    if role is None:
        role = {"name": name}
        roles.append(role)
    # The hub lays a role spec over the default role of that name, so a spec
    # without `scopes` has the default's scopes; adding ours must keep them.
    role["scopes"] = _union(role.get("scopes", default_scopes), scopes)
    for key, values in members.items():
        role[key] = _union(role.get(key, []), values)


def _union(*lists):
    out = []
    for items in lists:
        for item in items:
            if item not in out:
                out.append(item)
    return out


def _is_json(value):
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _require_json(value, where):
    if not _is_json(value):
        raise ValueError(f"{where} must be JSON-serialisable (str, number, bool, list, dict)")


def _json_items(mapping):
    # template_vars may hold values (e.g. per-user callables) meant only for
    # the hub's own templates; the launcher needs the plain ones.
    kept = {k: v for k, v in mapping.items() if isinstance(k, str) and _is_json(v)}
    dropped = sorted(str(k) for k in mapping if k not in kept)
    if dropped:
        log.info("japps: template_vars not passed to the service (not JSON): %s", dropped)
    return kept

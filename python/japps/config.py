"""``JAppsConfig``: the ``c.JAppsConfig.*`` settings of a jupyterhub_config.py.

The jhub-apps traits keep their names, types and defaults so that an existing
jhub-apps configuration loads unchanged. A few japps-only traits follow them.
"""

import os
from urllib.parse import urlsplit

from traitlets import (
    Any,
    Bool,
    Callable,
    Enum,
    Int,
    List,
    TraitError,
    TraitType,
    Unicode,
    Union,
    default,
    validate,
)
from traitlets.config import LoggingConfigurable

from .binary import bundled_binary

DEFAULT_BANNERS = {"top": {"text": ""}, "bottom": {"text": ""}}


def _plain_dict(item, where):
    """A dict from a dict or a pydantic-style model (v2 ``model_dump``, v1 ``dict``)."""
    if isinstance(item, dict):
        return dict(item)
    if hasattr(item, "model_dump"):
        try:
            # JSON mode turns enums, URLs and the like into JSON types.
            return item.model_dump(mode="json")
        except TypeError:
            return item.model_dump()
    if callable(getattr(item, "dict", None)):
        return item.dict()
    raise TraitError(f"{where}: expected a dict, got {type(item).__name__}")


def _required_str(d, key, where):
    value = d.get(key)
    if not isinstance(value, str) or not value:
        raise TraitError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value


def _optional_str(d, key, where):
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise TraitError(f"{where}: {key!r} must be a string, got {value!r}")
    return value


def _banners(value):
    if value is None:
        return {side: dict(banner) for side, banner in DEFAULT_BANNERS.items()}
    d = _plain_dict(value, "JAppsConfig.banners")
    banners = {}
    for side in ("top", "bottom"):
        where = f"JAppsConfig.banners[{side!r}]"
        b = _plain_dict(d.get(side) or {}, where)
        text = b.get("text") or ""
        if not isinstance(text, str):
            raise TraitError(f"{where}: 'text' must be a string")
        banner = {"text": text}
        for colour in ("background", "foreground"):
            if b.get(colour) is not None:
                banner[colour] = _optional_str(b, colour, where)
        banners[side] = banner
    return banners


class Banners(TraitType):
    """The banners setting: a dict or a model, normalised to plain dicts.

    A trait of its own rather than a ``@validate`` hook: traitlets skips
    validators when config sets a value equal to the static default (None),
    and None has to become the default banners.
    """

    info_text = "a dict {'top': {'text': ...}, 'bottom': {'text': ...}} or None"

    def validate(self, obj, value):
        return _banners(value)


class NonEmptyUnicode(Unicode):
    """A string that must not be empty.

    Checked by the trait itself: a ``@validate`` hook would be skipped when
    config sets the empty static default of a trait with a dynamic default.
    """

    def validate(self, obj, value):
        value = super().validate(obj, value)
        if not value:
            raise TraitError(f"JAppsConfig.{self.name} must not be empty")
        return value


class SecretUnicode(Unicode):
    """A string that stays out of error messages.

    traitlets quotes a rejected value in its TraitError, which the hub logs.
    """

    def error(self, obj, value, error=None, info=None):
        raise TraitError(
            f"JAppsConfig.{self.name} must be a string, not {type(value).__name__}"
        )


# Where the external service's token comes from when the config does not set it.
SERVICE_API_TOKEN_ENV = "JAPPS_SERVICE_API_TOKEN"


def _check_service_url(url):
    """The reason ``url`` cannot be an external service's address, or None."""
    where = "JAppsConfig.service_url"
    # First, and without quoting the URL: user:password@ would end up in the hub's log.
    if "@" in url:
        return f"{where} must not hold credentials (user@ or user:password@)"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{where} is not a URL, got {url!r}"
    if parts.scheme not in ("http", "https"):
        return f"{where} must be an http:// or https:// URL, got {url!r}"
    try:
        _ = parts.port  # checked when read
    except ValueError:
        return f"{where} has an invalid port: {url!r}"
    if any(ch.isspace() for ch in url):
        return f"{where} must not contain spaces, got {url!r}"
    if not parts.hostname:
        return f"{where} must name a host, e.g. 'http://japps:10202', got {url!r}"
    if parts.path not in ("", "/"):
        # The hub proxies /services/japps/ to scheme://host:port and ignores a path.
        return f"{where} must have no path (the hub ignores it), got {url!r}"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"{where} must have no query or fragment, got {url!r}"
    return None


class JAppsConfig(LoggingConfigurable):
    """Settings of the japps launcher, read from ``c.JAppsConfig``."""

    # --- jhub-apps traits -------------------------------------------------

    apps_auth_type = Enum(
        values=["oauth", "none"],
        default_value="oauth",
        help="Authentication for deployed apps. Carried for compatibility: "
        "like jhub-apps, japps decides authentication per app.",
    ).tag(config=True)

    python_exec = Unicode(
        "python",
        help="Python interpreter for Python-side work (app commands that "
        "run Python modules, evaluating callables in this config).",
    ).tag(config=True)

    app_title = Unicode(
        "JHub Apps Launcher",
        help="Title of the launcher. Carried for compatibility.",
    ).tag(config=True)

    app_icon = Unicode(
        "https://jupyter.org/assets/homepage/main-logo.svg",
        help="Icon of the launcher. Carried for compatibility.",
    ).tag(config=True)

    conda_envs = Union(
        [List(Unicode()), Callable()],
        default_value=[],
        help="Conda environment names offered when creating an app, or a "
        "callable that takes the user model (dict) and returns them.",
    ).tag(config=True)

    jupyterhub_config_path = Unicode(
        "jupyterhub_config.py",
        help="Path of this jupyterhub_config.py, re-read to evaluate "
        "callables (conda_envs, KubeSpawner.profile_list).",
    ).tag(config=True)

    hub_host = Unicode(
        "127.0.0.1",
        help="Host the hub reaches the japps service on: the service URL is "
        "http://<hub_host>:<service_port> (on Kubernetes, e.g. 'hub').",
    ).tag(config=True)

    service_workers = Int(
        2,
        help="Number of service worker processes in jhub-apps. Carried for "
        "compatibility; japps runs one multi-threaded process.",
    ).tag(config=True)

    allowed_frameworks = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="If set, only these frameworks (e.g. 'panel', 'streamlit') can "
        "be used to create apps. None allows all.",
    ).tag(config=True)

    blocked_frameworks = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="Frameworks that cannot be used to create apps. None blocks none.",
    ).tag(config=True)

    startup_apps = List(
        Any(),
        default_value=[],
        help="Apps that exist, stopped, with exactly these options after the "
        "service starts: dicts (or models) with username, servername, "
        "user_options.",
    ).tag(config=True)

    jhub_app_proxy_version = Unicode(
        "v0.2.2",
        help="Version of jhub-app-proxy that jhub-apps downloads at spawn "
        "time. Carried for compatibility; japps launch replaces the proxy.",
    ).tag(config=True)

    additional_services = List(
        Any(),
        default_value=[],
        help="Links shown in the launcher as services: dicts with name, url, "
        "description (optional), pinned (default False), thumbnail "
        "(optional URL or data URL). Pinned ones appear in Quick Access.",
    ).tag(config=True)

    banners = Banners(
        help="Banners on the top and bottom of every page: "
        "{'top': {'text', 'background'?, 'foreground'?}, 'bottom': {...}}. "
        "A banner with empty text is not shown.",
    ).tag(config=True)

    # --- japps-only traits --------------------------------------------------

    japps_bin = NonEmptyUnicode(
        help="The japps binary the hub runs as the service (found on PATH unless a path "
        "is given). Default: the binary installed with this package (the japps wheel), "
        "else `japps` on PATH.",
    ).tag(config=True)

    launcher_bin = NonEmptyUnicode(
        help="The japps binary that runs each app (`<launcher_bin> launch`), as "
        "found where user servers run: on the hub's machine for local "
        "spawners, in the image for KubeSpawner and DockerSpawner (set it to the "
        "path there). Found on PATH unless a path is given. Default: japps_bin.",
    ).tag(config=True)

    launcher_image = Unicode(
        "",
        help="KubeSpawner only: an image holding the japps binary at "
        "/usr/local/bin/japps and a `cp` (deploy/docker/Dockerfile's `launcher` "
        "target). When set, each app's pod gets an init container that copies "
        "the binary from it into a shared volume and runs the app with that copy, "
        "so user images need no japps of their own; launcher_bin is then not used "
        "for apps.",
    ).tag(config=True)

    launcher_args = List(
        Unicode(),
        default_value=[],
        help="Flags added to every `japps launch` command, after `launch` "
        "(e.g. ['--activity-interval=60']).",
    ).tag(config=True)

    launcher_args_final = Bool(
        True,
        help="Make launcher_args final: an app's JHUB_APP_PROXY_ARGS cannot change a "
        "flag set there (saving such an app is refused with 403, and the launcher "
        "applies the operator's value to apps stored before). False lets each app "
        "override them, as before.",
    ).tag(config=True)

    allow_public_apps = Bool(
        True,
        help="Let users make apps public (reachable without logging in), as "
        "jhub-apps does. When False, saving a public app (or one whose "
        "JHUB_APP_PROXY_ARGS has --authtype=none) is refused with 403, public "
        "startup apps are skipped with an error, and the launcher makes every "
        "visitor log in, whatever the app's definition says.",
    ).tag(config=True)

    allow_keep_alive = Bool(
        True,
        help="Let users keep apps alive (user_options.keep_alive, "
        "JH_APPS_KEEP_ALIVE, --keep-alive) against the idle culler, as jhub-apps "
        "does. When False, saving such an app is refused with 403, such startup "
        "apps are skipped with an error, and the launcher reports only real "
        "traffic to the hub.",
    ).tag(config=True)

    service_port = Int(
        10202,
        min=1,
        max=65535,
        help="Port the japps service listens on (jhub-apps always uses 10202).",
    ).tag(config=True)

    service_url = Unicode(
        "",
        help="Run japps as an external service at this address, e.g. "
        "'http://japps:10202': its own process or Deployment, possibly several "
        "replicas behind that one address, which the hub neither starts nor stops "
        "(`python -m japps service-env` prints their environment). Needs "
        "service_api_token; hub_host, service_port and japps_bin then do not "
        "apply. Empty: the hub runs `<japps_bin> serve` as a managed service.",
    ).tag(config=True)

    service_api_token = SecretUnicode(
        help="The hub API token of the external service (service_url): the "
        "hub registers it, and every replica gets it as JUPYTERHUB_API_TOKEN. "
        "8 to 64 characters, e.g. `openssl rand -hex 32`. Default: the "
        "JAPPS_SERVICE_API_TOKEN environment variable. Never logged.",
    ).tag(config=True)

    grant_sharing_scopes = Bool(
        True,
        help="Give every user the scopes sharing needs (shares!user, "
        "read:users:name, read:groups:name). Turn off to grant them "
        "through your own roles instead.",
    ).tag(config=True)

    identity_cache_max_age = Int(
        300,
        min=0,
        help="Seconds the service caches a token -> user lookup, like "
        "JupyterHub's HubAuth.cache_max_age. 0 disables the cache.",
    ).tag(config=True)

    callable_cache_seconds = Int(
        60,
        min=0,
        help="Seconds the service keeps the value of a callable conda_envs or "
        "KubeSpawner.profile_list for one user before evaluating it again "
        "(at most one evaluation per user and setting per interval). While a "
        "new evaluation fails, the last good value is served. 0 evaluates on "
        "every request.",
    ).tag(config=True)

    shared_app_cache_seconds = Int(
        60,
        min=0,
        help="Seconds the service keeps the definition (user_options) of an app "
        "another user shares, per owner and server. Whether it is running, and "
        "whether it is still shared, is read from the hub on every request. 0 "
        "reads every owner's apps on every request.",
    ).tag(config=True)

    templates_dir = Unicode(
        "",
        help="A directory of HTML templates that replace japps' own launcher "
        "templates of the same file name (e.g. home.html). Empty: japps' own.",
    ).tag(config=True)

    thumbnail_max_bytes = Int(
        5 * 1024 * 1024,
        min=1,
        help="Largest app thumbnail upload the service accepts, in bytes "
        "(default 5 MiB, jhub-apps' UI limit). Larger uploads are refused "
        "with 413; accepted ones are stored scaled down to 400 pixels.",
    ).tag(config=True)

    allow_profile_image = Bool(
        False,
        help="Let users run an app in a container image of their choice "
        "(user_options.profile_image, on the server-types page). Off by "
        "default: any image could then run on the cluster.",
    ).tag(config=True)

    allow_local_git_repositories = Bool(
        False,
        help="Let app-config-from-git/ clone file:// URLs and local paths. "
        "Off by default: users could then read repositories on the "
        "service's host. Only https:// and http:// URLs (and git:// with "
        "git_allow_private_addresses) are cloned otherwise.",
    ).tag(config=True)

    git_allowed_hosts = List(
        Unicode(),
        default_value=[],
        help="Host names app-config-from-git/ may clone from: exact names "
        "(github.com) or patterns for the names below a domain "
        "(*.example.org). Empty (the default) allows any host whose "
        "addresses are public.",
    ).tag(config=True)

    git_allow_private_addresses = Bool(
        False,
        help="Let app-config-from-git/ clone from loopback, private, "
        "link-local, unique-local, CGNAT or other non-public addresses, and "
        "over git://. Off by default: users could otherwise make the "
        "service reach its own network. With a git server on your own "
        "network, turn this on and list it in git_allowed_hosts.",
    ).tag(config=True)

    git_clone_timeout = Int(
        60,
        min=1,
        help="Seconds one app-config-from-git/ clone may take before it is "
        "stopped and refused.",
    ).tag(config=True)

    git_clone_max_bytes = Int(
        100 * 1024 * 1024,
        min=1,
        help="Most bytes one app-config-from-git/ clone may write (default "
        "100 MiB); a larger clone is stopped and refused.",
    ).tag(config=True)

    max_share_targets = Int(
        100,
        min=0,
        help="Most users and groups, together, one app may be shared with "
        "(each is one hub call when the app is saved); a create or edit "
        "listing more is refused with 400.",
    ).tag(config=True)

    keep_hub_home = Bool(
        False,
        help="Keep JupyterHub's own home page at /hub/home and the hub's own "
        "landing after login. By default /hub/, /hub/home and the login land "
        "on the launcher's home; it stays at /services/japps/ either way.",
    ).tag(config=True)

    cookie_secret_file = Unicode(
        "japps_cookie_secret",
        help="File holding the key that encrypts the service's session cookie, "
        "created (mode 0600) if missing; relative to the hub's working "
        "directory. Not used when JHUB_APP_JWT_SECRET_KEY is set.",
    ).tag(config=True)

    @default("japps_bin")
    def _default_japps_bin(self):
        return bundled_binary() or "japps"

    @default("launcher_bin")
    def _default_launcher_bin(self):
        return self.japps_bin

    @default("banners")
    def _default_banners(self):
        return _banners(None)

    @default("service_api_token")
    def _default_service_api_token(self):
        # From the environment, so the token need not be written into the config file.
        return os.environ.get(SERVICE_API_TOKEN_ENV, "")

    # --- validation -------------------------------------------------------

    @validate("startup_apps")
    def _validate_startup_apps(self, proposal):
        apps = []
        for i, item in enumerate(proposal["value"]):
            where = f"JAppsConfig.startup_apps[{i}]"
            d = _plain_dict(item, where)
            user_options = d.get("user_options")
            if not isinstance(user_options, dict):
                raise TraitError(f"{where}: 'user_options' must be a dict")
            apps.append(
                {
                    "username": _required_str(d, "username", where),
                    "servername": _required_str(d, "servername", where),
                    "user_options": user_options,
                }
            )
        return apps

    @validate("additional_services")
    def _validate_additional_services(self, proposal):
        services = []
        for i, item in enumerate(proposal["value"]):
            where = f"JAppsConfig.additional_services[{i}]"
            d = _plain_dict(item, where)
            pinned = d.get("pinned", False)
            if not isinstance(pinned, bool):
                raise TraitError(f"{where}: 'pinned' must be True or False")
            services.append(
                {
                    "name": _required_str(d, "name", where),
                    "url": _required_str(d, "url", where),
                    "description": _optional_str(d, "description", where),
                    "pinned": pinned,
                    "thumbnail": _optional_str(d, "thumbnail", where),
                }
            )
        return services

    @validate("hub_host")
    def _validate_hub_host(self, proposal):
        host = proposal["value"]
        if not host or any(ch in host for ch in "/ \t\n@?#"):
            raise TraitError(f"JAppsConfig.hub_host must be a bare host name, got {host!r}")
        return host

    @validate("service_url")
    def _validate_service_url(self, proposal):
        url = proposal["value"]
        problem = _check_service_url(url) if url else None
        if problem:
            raise TraitError(problem)
        return url

    @validate("cookie_secret_file")
    def _validate_cookie_secret_file(self, proposal):
        if not proposal["value"]:
            raise TraitError("JAppsConfig.cookie_secret_file must not be empty")
        return proposal["value"]

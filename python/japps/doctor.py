"""``python -m japps doctor -f jupyterhub_config.py``: what an operator should know about
a hub's japps setup, one line per check — ``ok``, ``warn`` or ``FAIL`` with what to do —
and a non-zero exit status when anything fails.

It reads the hub's configuration file as the hub would (``install_jhub_apps`` runs in
evaluation mode: nothing is created), runs the binaries it names with ``--version``, and
evaluates callable settings for a stand-in user. With ``--api-url`` and a token (the
japps service's, ``JUPYTERHUB_API_TOKEN``), it also asks the running hub for its version
and the token's scopes.
"""

import argparse
import json
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from traitlets.config import LazyConfigValue

from . import evaluate
from .config import JAppsConfig
from .install import (
    CLIENT_SCOPES,
    SESSION_KEY_ENV,
    SESSION_KEY_MIN_CHARS,
    SHARING_SCOPES,
    python_proxy,
    service_token_problem,
)
from .spawner import resolve_spawner_class
from .version import binary_version

OK, WARN, FAIL = "ok", "warn", "FAIL"

# Thumbnails larger than this make every page that lists the app heavy.
LARGE_THUMBNAIL_BYTES = 10 * 1024 * 1024
# Each app is a named server: a lower limit caps how many apps a user may have.
FEW_NAMED_SERVERS = 5
# The scopes japps' service needs from its hub token (the plugin's service role).
SERVICE_SCOPES = ("list:users", "read:users", "list:groups", "admin:servers", "shares")


@dataclass
class Finding:
    level: str
    check: str
    message: str
    fix: str = ""

    def line(self):
        text = f"{self.level:<4} {self.check}: {self.message}"
        return f"{text}\n     → {self.fix}" if self.fix else text


def _value(section, key, default):
    if key not in section:
        return default
    value = section[key]
    if isinstance(value, LazyConfigValue):
        value = value.get_value(default)
    return value


def diagnose(config, environ=None, base_dir="."):
    """Every check on a loaded hub configuration (no hub needed). Relative paths in it
    are taken from ``base_dir``, where the hub runs (its config file's directory)."""
    environ = os.environ if environ is None else environ
    hub = config.JupyterHub
    findings = []
    services = _value(hub, "services", []) or []
    if not any(s.get("name") == "japps" for s in services):
        return [
            Finding(
                FAIL,
                "installed",
                "the config does not register the japps service",
                "call install_jhub_apps(c, <SpawnerClass>) in jupyterhub_config.py",
            )
        ]
    findings.append(Finding(OK, "installed", "install_jhub_apps registers the japps service"))
    findings.append(_oauth_client(next(s for s in services if s.get("name") == "japps")))
    cfg = JAppsConfig(config=config)
    findings.append(_named_servers(hub))
    findings.append(_sharing_roles(hub))
    findings.extend(_binaries(cfg, hub))
    if cfg.service_url:
        findings.append(_service_token(cfg))
    findings.append(_session_key(cfg, environ, base_dir))
    findings.extend(_callables(config))
    findings.append(_limits(cfg))
    findings.append(_public_url(hub))
    findings.append(_origin(hub))
    findings.append(_proxy(config))
    return findings


def _oauth_client(service):
    allowed = set(service.get("oauth_client_allowed_scopes") or [])
    missing = [scope for scope in CLIENT_SCOPES if scope not in allowed]
    if missing:
        return Finding(
            FAIL,
            "oauth client",
            f"japps' OAuth client may not ask for {', '.join(missing)}: logged-in users "
            "cannot start, stop or share their apps through japps",
            "do not change the japps service's oauth_client_allowed_scopes after "
            "install_jhub_apps",
        )
    return Finding(OK, "oauth client", "users' japps logins carry what app actions need")


def _named_servers(hub):
    if _value(hub, "allow_named_servers", False) is not True:
        return Finding(
            FAIL,
            "named servers",
            "c.JupyterHub.allow_named_servers is off after install_jhub_apps: apps cannot run",
            "do not set allow_named_servers = False after install_jhub_apps",
        )
    limit = _value(hub, "named_server_limit_per_user", 0)
    if callable(limit):
        return Finding(OK, "named servers", "on; the per-user limit is a callable")
    if isinstance(limit, int) and 0 < limit < FEW_NAMED_SERVERS:
        return Finding(
            WARN,
            "named servers",
            f"each app is a named server, and a user may have at most {limit}",
            "raise c.JupyterHub.named_server_limit_per_user (0 = no limit)",
        )
    return Finding(OK, "named servers", f"on (limit per user: {limit or 'none'})")


def _sharing_roles(hub):
    roles = _value(hub, "load_roles", []) or []
    user_role = next((r for r in roles if r.get("name") == "user"), None)
    scopes = set((user_role or {}).get("scopes", []))
    missing = [scope for scope in SHARING_SCOPES if scope not in scopes]
    if missing:
        return Finding(
            WARN,
            "sharing",
            f"the 'user' role lacks {', '.join(missing)}: users cannot share apps",
            "keep c.JAppsConfig.grant_sharing_scopes = True, or grant these scopes in a role",
        )
    return Finding(OK, "sharing", "users may share their apps with users and groups")


def _binaries(cfg, hub):
    findings = []
    # An external service runs wherever the operator runs it, not here.
    service_version = None if cfg.service_url else binary_version(cfg.japps_bin)
    if cfg.service_url:
        findings.append(
            Finding(
                OK,
                "japps binary",
                f"external service at {cfg.service_url}: the hub does not run japps",
            )
        )
    elif service_version is None:
        findings.append(
            Finding(
                FAIL,
                "japps binary",
                f"{cfg.japps_bin!r} cannot be run here (not found, or not japps)",
                "install the japps wheel into the hub's environment, or set "
                "c.JAppsConfig.japps_bin to the binary's path",
            )
        )
    else:
        where = shutil.which(cfg.japps_bin)
        findings.append(Finding(OK, "japps binary", f"{where}: japps {service_version}"))
    spawner = _value(hub, "spawner_class", None)
    local = _is_local(spawner)
    if cfg.launcher_image and _has_init_containers(spawner):
        findings.append(
            Finding(OK, "launcher", f"apps copy japps from the image {cfg.launcher_image}")
        )
    elif local:
        launcher_version = binary_version(cfg.launcher_bin)
        if launcher_version is None:
            findings.append(
                Finding(
                    FAIL,
                    "launcher",
                    f"launcher_bin {cfg.launcher_bin!r} cannot be run here, where this "
                    "spawner starts apps",
                    "set c.JAppsConfig.launcher_bin to the japps binary's path",
                )
            )
        elif service_version and launcher_version.split()[0] != service_version.split()[0]:
            findings.append(
                Finding(
                    WARN,
                    "launcher",
                    f"the launcher is japps {launcher_version}, the service {service_version}",
                    "install the same japps version for both",
                )
            )
        else:
            findings.append(Finding(OK, "launcher", f"japps {launcher_version}"))
    else:
        findings.append(
            Finding(
                WARN,
                "launcher",
                f"apps run {cfg.launcher_bin!r} inside the user image, which this check "
                "cannot see",
                "install the same japps wheel in the user image, or (KubeSpawner) set "
                "c.JAppsConfig.launcher_image",
            )
        )
    return findings


def _service_token(cfg):
    problem = service_token_problem(cfg.service_api_token)
    if problem:
        return Finding(
            FAIL,
            "service token",
            f"{problem}; the hub will not start",
            "set c.JAppsConfig.service_api_token, or JAPPS_SERVICE_API_TOKEN in the "
            "hub's environment, to 8 to 64 random characters (`openssl rand -hex 32`)",
        )
    return Finding(OK, "service token", "the hub registers the external service's token")


def _spawner_class(spawner):
    if spawner is None:
        return None
    try:
        return resolve_spawner_class(spawner)
    except (ValueError, ImportError):
        return None


def _is_local(spawner):
    from jupyterhub.spawner import LocalProcessSpawner

    cls = _spawner_class(spawner) if spawner is not None else LocalProcessSpawner
    return cls is not None and issubclass(cls, LocalProcessSpawner)


def _has_init_containers(spawner):
    cls = _spawner_class(spawner)
    return cls is not None and cls.class_traits().get("init_containers") is not None


def _session_key(cfg, environ, base_dir):
    key = environ.get(SESSION_KEY_ENV, "")
    if key:
        if len(key) < SESSION_KEY_MIN_CHARS:
            return Finding(
                FAIL,
                "session key",
                f"{SESSION_KEY_ENV} has {len(key)} characters, fewer than "
                f"{SESSION_KEY_MIN_CHARS}",
                f"set {SESSION_KEY_ENV} to a random value, e.g. `openssl rand -hex 32`",
            )
        return Finding(
            OK,
            "session key",
            f"from {SESSION_KEY_ENV} (replicas must all get the same value)",
        )
    path = os.path.abspath(os.path.join(base_dir, cfg.cookie_secret_file))
    if not os.path.exists(path) and cfg.service_url:
        # The hub does not create it for an external service.
        return Finding(
            WARN,
            "session key",
            f"{SESSION_KEY_ENV} is not set and {path} does not exist: "
            "`python -m japps service-env` will generate a key",
            "store that key (e.g. in a Kubernetes Secret) and give the same "
            f"{SESSION_KEY_ENV} to every replica",
        )
    if not os.path.exists(path):
        return Finding(
            WARN,
            "session key",
            f"{path} does not exist yet; the hub creates it at its first start",
            f"with several replicas or an external service, set {SESSION_KEY_ENV} instead",
        )
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        return Finding(
            WARN,
            "session key",
            f"{path} is readable by others (mode {mode:o})",
            f"chmod 600 {path}",
        )
    return Finding(OK, "session key", f"kept in {path}, so sessions survive restarts")


def _callables(config):
    findings = []
    user = {"name": "japps-doctor", "admin": False, "groups": [], "auth_state": None}
    for setting in sorted(evaluate.SETTINGS):
        value = evaluate.configured_value(config, setting)
        if not callable(value):
            continue
        try:
            result = evaluate.evaluate(setting, config, user)
        except evaluate.Failure as failure:
            findings.append(
                Finding(
                    FAIL,
                    "callables",
                    f"{setting} fails for a plain user: {failure}",
                    "make it work for any user (the service calls it for each one)",
                )
            )
            continue
        if not isinstance(result, list):
            findings.append(
                Finding(
                    FAIL,
                    "callables",
                    f"{setting} returns a {type(result).__name__}, not a list",
                    "return a list",
                )
            )
        else:
            findings.append(
                Finding(OK, "callables", f"{setting} gives {len(result)} entries for a plain user")
            )
    return findings


def _limits(cfg):
    size = cfg.thumbnail_max_bytes
    if size > LARGE_THUMBNAIL_BYTES:
        return Finding(
            WARN,
            "limits",
            f"thumbnails up to {size} bytes are accepted; every page listing apps carries them",
            "keep c.JAppsConfig.thumbnail_max_bytes at a few MB",
        )
    return Finding(OK, "limits", f"thumbnails up to {size} bytes")


def _public_url(hub):
    public = _value(hub, "public_url", "") or ""
    bind = _value(hub, "bind_url", "") or ""
    url = public or bind
    parts = urlsplit(url) if url else None
    if parts and parts.scheme == "https":
        return Finding(OK, "public URL", f"{url} (cookies are Secure)")
    host = (parts.hostname if parts else "") or ""
    if parts and host in ("127.0.0.1", "localhost", "::1"):
        return Finding(OK, "public URL", f"{url} (loopback only)")
    if public:
        return Finding(
            WARN,
            "public URL",
            f"{public} is plain HTTP: logins and sessions travel unencrypted",
            "serve the hub over HTTPS",
        )
    return Finding(
        WARN,
        "public URL",
        "c.JupyterHub.public_url is not set: japps cannot tell whether browsers use HTTPS, "
        "so its cookies are not marked Secure",
        "set c.JupyterHub.public_url = 'https://…'",
    )


def _origin(hub):
    if _value(hub, "subdomain_host", ""):
        return Finding(OK, "origin", "each user's apps run on their own host (subdomain_host)")
    return Finding(
        WARN,
        "origin",
        "every app's page shares the hub's origin: its scripts can act as whoever opens it",
        "use per-user subdomains (c.JupyterHub.subdomain_host = 'https://hub.example.org', "
        "with wildcard DNS and certificate) when apps are shared or public; "
        "see README 'Single origin vs subdomains'",
    )


def _proxy(config):
    program = python_proxy(config)
    if program:
        return Finding(
            WARN,
            "proxy",
            f"{program} is the pure-Python configurable-http-proxy: Panel, Bokeh and "
            "Streamlit apps stay blank and live pages update late",
            "use the Node configurable-http-proxy (npm install -g configurable-http-proxy)",
        )
    return Finding(OK, "proxy", "not the pure-Python configurable-http-proxy")


def hub_checks(api_url, token):
    """The running hub: reachable, a supported version, the token's scopes."""
    import requests

    headers = {"Authorization": f"token {token}"}
    base = api_url.rstrip("/")
    try:
        info = requests.get(f"{base}/", timeout=10)
        info.raise_for_status()
        version = info.json().get("version", "")
    except (requests.RequestException, ValueError) as err:
        return [Finding(FAIL, "hub", f"{base} cannot be reached: {err}", "check --api-url")]
    findings = []
    numbers = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    if numbers < (5, 5, 1) or numbers[:1] > (6,):
        findings.append(
            Finding(
                FAIL,
                "hub",
                f"JupyterHub {version} is not supported",
                "run JupyterHub 5.5.1 or newer 5.x, or 6.x",
            )
        )
    else:
        findings.append(Finding(OK, "hub", f"JupyterHub {version} at {base}"))
    try:
        me = requests.get(f"{base}/user", headers=headers, timeout=10)
    except requests.RequestException as err:
        return [*findings, Finding(FAIL, "token", f"{err}")]
    if me.status_code != 200:
        return [
            *findings,
            Finding(FAIL, "token", f"the hub refuses the token ({me.status_code})",
                    "give the japps service's token (JUPYTERHUB_API_TOKEN)"),
        ]
    scopes = set(me.json().get("scopes", []))
    missing = [s for s in SERVICE_SCOPES if s not in scopes]
    if missing:
        findings.append(
            Finding(
                FAIL,
                "token",
                f"the token lacks {', '.join(missing)}",
                "give the japps service's token; its role is set by install_jhub_apps",
            )
        )
    else:
        findings.append(Finding(OK, "token", "has the scopes the japps service needs"))
    return findings


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m japps doctor",
        description="Check a hub's japps setup: one line per check, exit status 1 on a failure.",
    )
    parser.add_argument("-f", "--config", default="jupyterhub_config.py",
                        help="the hub's configuration file (default: ./jupyterhub_config.py)")
    parser.add_argument("--api-url", help="the running hub's API, e.g. http://hub:8081/hub/api")
    parser.add_argument("--token-env", default="JUPYTERHUB_API_TOKEN",
                        help="the variable holding the japps service's token")
    args = parser.parse_args(argv)

    # Loading runs install_jhub_apps: in evaluation mode it creates nothing.
    try:
        config = evaluate.load_config_evaluating(args.config)
    except evaluate.Failure as failure:
        print(Finding(FAIL, "config", str(failure)).line())
        return 1
    findings = diagnose(config, base_dir=os.path.dirname(os.path.abspath(args.config)))
    if args.api_url:
        token = os.environ.get(args.token_env, "")
        if token:
            findings.extend(hub_checks(args.api_url, token))
        else:
            findings.append(Finding(FAIL, "token", f"{args.token_env} is not set"))
    for finding in findings:
        print(finding.line())
    failed = sum(f.level == FAIL for f in findings)
    warned = sum(f.level == WARN for f in findings)
    print(f"\n{len(findings)} checks: {failed} failed, {warned} warnings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

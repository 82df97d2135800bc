"""``python -m japps service-env -f jupyterhub_config.py``: the environment of an
external japps service, one ``NAME=value`` a line.

With ``c.JAppsConfig.service_url`` set, the hub only registers japps; the operator runs
``japps serve`` (one or several replicas behind that address). A managed service gets its
``JUPYTERHUB_*`` variables from the hub and its japps ones from the plugin; this prints
the same set, read from the hub's configuration, in the env-file format that
``docker --env-file`` and ``kubectl create secret generic --from-env-file`` read (no
quoting, so no value may hold a newline).

The output holds the service's token and the session key: ``--output`` writes it to a
file only its owner can read. Nothing else is created, not even the session key file.
"""

import argparse
import contextlib
import json
import os
import secrets
import sys
from urllib.parse import urlsplit, urlunsplit

from . import evaluate
from .config import JAppsConfig
from .install import (
    SERVICE_NAME,
    SESSION_KEY_ENV,
    _configured,
    _read_session_key,
    service_environment,
    service_token_problem,
)

PROG = "python -m japps service-env"

# JupyterHub's defaults for where the hub's API listens.
DEFAULT_HUB_IP = "127.0.0.1"
DEFAULT_HUB_PORT = 8081
# A hub listening on every interface: replicas need an address it has instead.
ANY_HOSTS = ("", "0.0.0.0", "::")


class Refusal(Exception):
    """Why the environment cannot be printed, and the exit status that says so."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def _hub(hub, key, default):
    value = _configured(hub, key, default)
    return default if value is None else value


def _base_url(hub):
    """``c.JupyterHub.base_url`` as the hub normalises it: leading and trailing ``/``."""
    url = _hub(hub, "base_url", "/") or "/"
    if not url.startswith("/"):
        url = "/" + url
    if not url.endswith("/"):
        url += "/"
    return url


def _host_port(host, port):
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def api_url(hub, base_url, warn):
    """The hub's API as the hub tells its managed services, from its own settings.

    ``hub_connect_url`` (or ``hub_bind_url``) replaces the hub's address, and the
    hub puts its own prefix on it whatever path it has (``app.py:init_hub``).
    ``warn(message)`` is told when the result is a guess.
    """
    url = _hub(hub, "hub_connect_url", "") or _hub(hub, "hub_bind_url", "")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise Refusal(
                f"cannot tell the hub's API URL from {url!r} (not http or https); pass --api-url"
            )
        scheme, host, port = parts.scheme, parts.hostname or "", parts.port
    else:
        scheme = "http"
        host = _hub(hub, "hub_connect_ip", "") or _hub(hub, "hub_ip", DEFAULT_HUB_IP)
        port = _hub(hub, "hub_port", DEFAULT_HUB_PORT) or DEFAULT_HUB_PORT
    if host in ANY_HOSTS:
        warn(
            f"warning: the hub listens on every interface ({host or 'no host'}); "
            "JUPYTERHUB_API_URL uses 127.0.0.1, "
            "which only a replica on the hub's own host reaches: pass --api-url with "
            "the hub's address as the replicas see it (e.g. http://hub:8081/hub/api)"
        )
        host = "127.0.0.1"
    return f"{scheme}://{_host_port(host, port)}{base_url}hub/api"


def _public_origin(hub, base_url):
    """``scheme://host[:port]`` of the hub's public URL, or "" (``app.py:init_hub``).

    Like the hub, ``subdomain_host`` stands in for an unset ``public_url``, and gets
    ``https://`` when it has no scheme.
    """
    subdomain_host = _hub(hub, "subdomain_host", "")
    if subdomain_host and "://" not in subdomain_host:
        subdomain_host = "https://" + subdomain_host
    public_url = _hub(hub, "public_url", "") or (
        subdomain_host + base_url if subdomain_host else ""
    )
    if not public_url:
        return ""
    parts = urlsplit(public_url)
    if not parts.scheme or not parts.netloc:
        raise Refusal(f"c.JupyterHub.public_url {public_url!r} is not a URL")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def hub_variables(config, service_url, token, api, warn):
    """The ``JUPYTERHUB_*`` variables the hub gives a managed service
    (``services/service.py:Service.start``, ``spawner.py:Spawner.get_env``)."""
    hub = config.JupyterHub
    base_url = _base_url(hub)
    prefix = f"{base_url}services/{SERVICE_NAME}/"
    env = {
        "JUPYTERHUB_SERVICE_NAME": SERVICE_NAME,
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_API_URL": api or api_url(hub, base_url, warn),
        "JUPYTERHUB_BASE_URL": base_url,
        "JUPYTERHUB_SERVICE_PREFIX": prefix,
        "JUPYTERHUB_CLIENT_ID": f"service-{SERVICE_NAME}",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{prefix}oauth_callback",
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps(
            ["access:services", f"access:services!service={SERVICE_NAME}"],
            separators=(",", ":"),
        ),
        "JUPYTERHUB_SERVICE_URL": service_url,
    }
    origin = _public_origin(hub, base_url)
    if origin:
        env["JUPYTERHUB_PUBLIC_URL"] = origin + prefix
        env["JUPYTERHUB_HOST"] = origin
    if _hub(hub, "cookie_host_prefix_enabled", False) is True:
        env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] = "1"
    return env


def session_key(cfg, base_dir, note):
    """JHUB_APP_JWT_SECRET_KEY from the environment, else the hub's key file, else a
    new one (``note`` says so). The key file is never created here: the hub does not
    use it for an external service, and a file would suggest that it does."""
    key = os.environ.get(SESSION_KEY_ENV)
    if key:
        return key
    path = os.path.abspath(os.path.join(base_dir, cfg.cookie_secret_file))
    if os.path.exists(path):
        try:
            return _read_session_key(path)
        except ValueError as err:
            raise Refusal(str(err)) from None
    note(
        f"note: generated a new {SESSION_KEY_ENV} ({SESSION_KEY_ENV} is not set and "
        f"{path} does not exist); store it, "
        "e.g. in a Kubernetes Secret, and give the same value to every replica: "
        "with another key, sessions end at each restart and on each other replica"
    )
    return secrets.token_hex(32)


def _warn(message):
    print(f"{PROG}: {message}", file=sys.stderr)


def service_env(config, config_file, api=None, warn=_warn):
    """Every variable an external ``japps serve`` needs, in order. ``config_file`` is
    the absolute path of the hub's config file; relative paths in it start from its
    directory, as for the doctor."""

    cfg = JAppsConfig(config=config)
    if not cfg.service_url:
        raise Refusal(
            "c.JAppsConfig.service_url is not set: the hub runs japps itself (a managed "
            "service) and gives it its environment",
            status=2,
        )
    problem = service_token_problem(cfg.service_api_token)
    if problem:
        raise Refusal(problem)
    base_dir = os.path.dirname(config_file)
    env = hub_variables(config, cfg.service_url, cfg.service_api_token, api, warn)
    env.update(
        service_environment(
            cfg,
            config,
            config_file,
            session_key=session_key(cfg, base_dir, warn),
            base_dir=base_dir,
        )
    )
    return env


def env_file(env):
    """``NAME=value`` lines. Env files have no quoting: a newline would start a new
    variable, so it is refused (naming the variable only: values may be secrets)."""
    for name, value in env.items():
        if "\n" in value or "\r" in value:
            raise Refusal(f"the value of {name} contains a newline, which an env file cannot hold")
    return "".join(f"{name}={value}\n" for name, value in env.items())


def write_private(path, text):
    """Write ``text`` to ``path``, readable by its owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        # An existing file keeps its mode on open: tighten it before writing.
        os.fchmod(f.fileno(), 0o600)
        f.write(text)


def _api_url_argument(value):
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value!r}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Print the environment of an external japps service "
        "(c.JAppsConfig.service_url), one NAME=value a line: it holds secrets.",
    )
    parser.add_argument(
        "-f",
        "--config",
        default="jupyterhub_config.py",
        help="the hub's configuration file (default: ./jupyterhub_config.py)",
    )
    parser.add_argument(
        "--api-url",
        type=_api_url_argument,
        help="the hub's API as the replicas reach it, e.g. "
        "http://hub:8081/hub/api (default: from the hub's settings)",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write to FILE (mode 0600) instead of stdout"
    )
    args = parser.parse_args(argv)

    config_file = os.path.abspath(args.config)
    try:
        # The config's own prints must not end up among the variables.
        with contextlib.redirect_stdout(sys.stderr):
            config = evaluate.load_config_evaluating(config_file)
            text = env_file(service_env(config, config_file, args.api_url))
    except evaluate.Failure as failure:
        print(f"{PROG}: {failure}", file=sys.stderr)
        return 1
    except Refusal as refusal:
        print(f"{PROG}: {refusal}", file=sys.stderr)
        return refusal.status
    except ValueError as err:
        # From the plugin (e.g. JAPPS_CONFIG too large); its messages hold no secrets.
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_private(args.output, text)
    except OSError as err:
        print(f"{PROG}: cannot write {args.output}: {err.strerror}", file=sys.stderr)
        return 1
    print(
        f"{PROG}: wrote {args.output} (mode 0600: it holds the service's token and session key)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

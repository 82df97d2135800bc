"""Evaluate a callable setting of the hub configuration for the japps service.

``c.JAppsConfig.conda_envs`` and ``c.KubeSpawner.profile_list`` may be Python
callables, which cannot travel to the service as JSON. The service runs::

    <hub python> -m japps.evaluate <conda_envs|profile_list> --config <jupyterhub_config.py>

with the user's hub model (JSON) on stdin. This loads the hub's config file,
calls the setting (awaiting it if it is async) and prints its value as JSON on
stdout: ``conda_envs(user_model)``; ``profile_list(spawner)`` with a stand-in
spawner whose ``user.name``, ``user.admin``, ``user.groups`` and
``await user.get_auth_state()`` work. A setting that is a plain value is printed
as is.

Exit status 0 with the JSON on stdout, or non-zero with the reason on stderr:
the last stderr line starts with ``japps.evaluate:`` and is the one the
service logs, so it leaves out secrets from the user's ``auth_state``.

Loading the config runs ``install_jhub_apps`` again; the ``JAPPS_EVALUATE``
variable tells it to skip what only the hub should do (creating the session key
file).
"""

import argparse
import asyncio
import inspect
import json
import logging
import os
import sys
import traceback

from traitlets.config import LazyConfigValue
from traitlets.config.loader import PyFileConfigLoader

# Set while a config is evaluated; install_jhub_apps checks it.
EVALUATE_ENV = "JAPPS_EVALUATE"

# setting -> (config section, trait, value when not configured)
SETTINGS = {
    "conda_envs": ("JAppsConfig", "conda_envs", []),
    "profile_list": ("KubeSpawner", "profile_list", []),
}

PREFIX = "japps.evaluate:"
MAX_MESSAGE = 300

log = logging.getLogger("japps.evaluate")


class Failure(Exception):
    """An evaluation that failed, with the reason to report."""


class _Group:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<Group {self.name}>"


class _User:
    """The parts of JupyterHub's ``User`` that profile_list callables use."""

    def __init__(self, model):
        self.name = model.get("name", "")
        self.admin = bool(model.get("admin", False))
        self.groups = [_Group(name) for name in model.get("groups") or []]
        self._auth_state = model.get("auth_state")

    async def get_auth_state(self):
        return self._auth_state

    def __repr__(self):
        return f"<User {self.name}>"


class _Spawner:
    """A stand-in for the spawner a ``profile_list`` callable receives."""

    def __init__(self, model):
        self.user = _User(model)
        self.name = ""
        self.log = log

    def __repr__(self):
        return f"<Spawner for {self.user.name}>"


def load_config(path):
    """The config a ``jupyterhub -f <path>`` would load (sub-configs included)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise Failure(f"no config file at {path}")
    loader = PyFileConfigLoader(os.path.basename(path), path=os.path.dirname(path), log=log)
    try:
        return loader.load_config()
    except Exception as err:
        raise Failure(f"loading {path} failed: {_describe(err)}") from err


def load_config_evaluating(path):
    """``load_config`` in evaluation mode, for tools run by the operator (the doctor,
    service-env): ``install_jhub_apps`` then creates nothing and requires nothing
    only the hub needs. The variable is restored afterwards."""
    previous = os.environ.get(EVALUATE_ENV)
    os.environ[EVALUATE_ENV] = "1"
    try:
        return load_config(path)
    finally:
        if previous is None:
            del os.environ[EVALUATE_ENV]
        else:
            os.environ[EVALUATE_ENV] = previous


def configured_value(config, setting):
    section, trait, empty = SETTINGS[setting]
    if section not in config or trait not in config[section]:
        return empty
    value = config[section][trait]
    if isinstance(value, LazyConfigValue):
        value = value.get_value(empty)
    return value


async def _call(setting, value, user):
    argument = user if setting == "conda_envs" else _Spawner(user)
    result = value(argument)
    if inspect.isawaitable(result):
        result = await result
    return result


def evaluate(setting, config, user):
    """The value of ``setting`` for ``user`` (a dict), as plain JSON data."""
    value = configured_value(config, setting)
    if callable(value):
        try:
            value = asyncio.run(_call(setting, value, user))
        except Exception as err:
            raise Failure(f"{setting} raised {_describe(err)}") from err
    try:
        # Round trip: tuples become lists, anything else un-JSON-able fails here.
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise Failure(f"{setting} gave a value that is not JSON ({type(value).__name__})") from err


def _describe(err):
    """``Type: message at file:line in function`` of the innermost frame."""
    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    frames = traceback.extract_tb(err.__traceback__)
    if frames:
        frame = frames[-1]
        text += f" at {os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
    return text


def _secrets(value, found=None):
    """The string values in ``value`` (e.g. auth_state), to keep out of messages."""
    found = set() if found is None else found
    if isinstance(value, str):
        if len(value) >= 4:
            found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _secrets(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _secrets(item, found)
    return found


def summary(message, user):
    """One line, without the user's auth_state values, of bounded length."""
    auth_state = user.get("auth_state") if isinstance(user, dict) else None
    for secret in sorted(_secrets(auth_state), key=len, reverse=True):
        message = message.replace(secret, "***")
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return f"{PREFIX} {message}"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m japps.evaluate",
        description="Print the value of a callable hub setting for one user as JSON "
        "(the user's hub model is read from stdin).",
    )
    parser.add_argument("setting", choices=sorted(SETTINGS))
    parser.add_argument(
        "--config",
        default=None,
        help="the hub's jupyterhub_config.py (default: jupyterhub_config_path from JAPPS_CONFIG)",
    )
    args = parser.parse_args(argv)

    # stdout carries the answer only: whatever the config or the callable print,
    # from Python or from a subprocess, goes to stderr.
    sys.stdout.flush()
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ[EVALUATE_ENV] = "1"
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    user = {}
    try:
        try:
            user = json.load(sys.stdin)
        except ValueError as err:
            raise Failure(f"stdin is not a JSON user model: {err}") from err
        if not isinstance(user, dict):
            raise Failure("stdin is not a JSON object")
        value = evaluate(args.setting, load_config(args.config or _default_config()), user)
    except Failure as failure:
        if failure.__cause__ is not None:
            traceback.print_exception(failure.__cause__, file=sys.stderr)
        print(summary(str(failure), user), file=sys.stderr)
        return 1
    json.dump(value, answer, separators=(",", ":"))
    answer.flush()
    return 0


def _default_config():
    try:
        path = json.loads(os.environ.get("JAPPS_CONFIG", "{}")).get("jupyterhub_config_path")
    except ValueError:
        path = None
    return path or "jupyterhub_config.py"


if __name__ == "__main__":
    sys.exit(main())

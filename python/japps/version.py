"""Which japps a binary is: ``<binary> --version`` prints ``japps 0.1.0 (revision)``.

The spawner passes the service's version to every app (``JAPPS_SERVICE_VERSION``), and
the launcher warns in the app's output when it is a different japps; the plugin warns in
the hub's log when the service and launcher binaries it can see differ.
"""

import functools
import logging
import shutil
import subprocess

log = logging.getLogger("JupyterHub.japps")


@functools.lru_cache(maxsize=16)
def binary_version(program):
    """``0.1.0 (revision)`` for the japps binary ``program`` (a path or a name on
    ``PATH``), or None when it cannot be run or is not japps."""
    path = shutil.which(program)
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    words = done.stdout.strip().split(None, 1)
    if done.returncode != 0 or len(words) != 2 or words[0] != "japps":
        return None
    return words[1]


def warn_if_versions_differ(service_bin, launcher_bin):
    """Log a warning when both binaries run here and are different japps versions."""
    if shutil.which(service_bin) == shutil.which(launcher_bin):
        return
    service, launcher = binary_version(service_bin), binary_version(launcher_bin)
    if service and launcher and service.split()[0] != launcher.split()[0]:
        log.warning(
            "japps: the service (%s) is japps %s but the launcher (%s) is japps %s; "
            "install the same version for both",
            service_bin,
            service,
            launcher_bin,
            launcher,
        )

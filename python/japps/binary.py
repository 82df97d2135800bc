"""The ``japps`` executable that came with this package.

The japps wheel installs the binary as a script of the distribution (``<prefix>/bin/japps``
in a venv, ``~/.local/bin/japps`` for a user install); its place is in the distribution's
record, so it is found whether or not that directory is on ``PATH``. A development
install of the plugin alone has none.
"""

import os
from importlib import metadata
from pathlib import Path


def bundled_binary(distribution="japps"):
    """The absolute path of the ``japps`` executable installed with ``distribution``,
    or None."""
    try:
        files = metadata.files(distribution)
    except metadata.PackageNotFoundError:
        return None
    for file in files or []:
        if file.name != "japps" or file.parent.name not in ("bin", "scripts"):
            continue
        path = Path(file.locate()).resolve()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None

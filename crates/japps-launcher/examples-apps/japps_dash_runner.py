"""Runs a Plotly Dash app file for `japps launch`.

Usage: python japps_dash_runner.py APP_FILE [ARGS...], with HOST and PORT in the
environment (and DASH_REQUESTS_PATHNAME_PREFIX, which Dash reads itself).

The file runs as the main script, as `python APP_FILE` would run it. If it starts the
server itself (`app.run()` under `if __name__ == "__main__"`), that call is served; if it
only defines `app = Dash(...)` and returns, that app is served.
"""

import inspect
import os
import runpy
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: japps_dash_runner.py APP_FILE [ARGS...]")
    path = os.path.abspath(sys.argv[1])
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ["PORT"])

    import dash

    # Dash 1 only has run_server; from Dash 2 on, run_server (where present) calls run.
    method = "run" if hasattr(dash.Dash, "run") else "run_server"
    original = getattr(dash.Dash, method)
    signature = inspect.signature(original)
    served = []

    def run(self, *args, **kwargs):
        bound = signature.bind_partial(self, *args, **kwargs)
        options = dict(bound.arguments)
        options.pop("self", None)
        options.update(options.pop("flask_run_options", {}))
        # The launcher proxies to this address only: a file written to be run by hand often
        # names its own port, and Werkzeug's reloader would restart the file without this
        # runner (and without these settings).
        options["host"] = host
        options["port"] = port
        options["use_reloader"] = False
        served.append(self)
        return original(self, **options)

    setattr(dash.Dash, method, run)

    sys.argv = [path, *sys.argv[2:]]
    sys.path.insert(0, os.path.dirname(path))
    namespace = runpy.run_path(path, run_name="__main__")
    if served:
        return
    app = namespace.get("app")
    if not isinstance(app, dash.Dash):
        sys.exit(
            f"japps: {path} neither starts a Dash server nor defines a Dash app named `app`"
        )
    getattr(app, method)()


if __name__ == "__main__":
    main()

"""``python -m japps doctor|service-env …``: the plugin's command line."""

import sys

from . import doctor, service_env

COMMANDS = {"doctor": doctor.main, "service-env": service_env.main}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m japps doctor [-f jupyterhub_config.py] [--api-url URL]\n"
              "       python -m japps service-env [-f jupyterhub_config.py] [--api-url URL] "
              "[--output FILE]",
              file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())

"""`python -m metaflow_kestra.task`: the one command every generated Kestra task runs."""

import sys

from .warm_start import run as run_warm

if __name__ == "__main__":
    status = run_warm()
    if status is None:
        from .runtime import main

        status = main()
    sys.exit(status)

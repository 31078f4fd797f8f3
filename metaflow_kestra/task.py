"""`python -m metaflow_kestra.task`: the one command every generated Kestra task runs."""

import sys

from .runtime import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m metaflow_kestra.task`: the one command every generated Kestra task runs."""

import sys

from .warm_start import run as run_warm

if __name__ == "__main__":
    status = run_warm()
    if status is None:
        from .runtime import main

        status = main()
        # A cold task's interpreter holds all of Metaflow: its exit's garbage collections cost about
        # 0.1 s a task. The task is done, so they are skipped (atexit handlers still run).
        import gc

        gc.freeze()
    sys.exit(status)

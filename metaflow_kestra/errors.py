"""Errors that carry a message written for the person at the terminal.

Every command catches `KestraError` at its edge, prints the message on one
line (plus optional detail lines) and exits non-zero: no traceback for
situations the user can fix.
"""


class KestraError(Exception):
    """A failure the user can act on; `str(err)` says what happened and what to do."""

    def __init__(self, message, detail=None):
        super().__init__(message)
        self.detail = detail

    def render(self):
        if not self.detail:
            return str(self)
        return "%s\n%s" % (self, self.detail)


class KestraDeployerError(KestraError, RuntimeError):
    """A call of the Deployer API failed (a command it ran, or a request it made); the message is
    the one-line reason. A RuntimeError, as Metaflow's own deployers raise, so `except
    RuntimeError` keeps working; a KestraError, as everything this package raises."""


class WaitTimedOut(KestraError):
    """A wait for an execution gave up; the execution itself goes on."""


# The flow file of the `python <file> kestra ...` command running in this process, if one is.
_flow_file = None


def set_flow_file(path):
    """Called by the `kestra` command group: advice then names the user's own file."""
    global _flow_file
    _flow_file = path


def flow_command(rest):
    """`python <the user's flow file> <rest>`, for advice in messages (flow.py outside a flow's
    command, e.g. from the Deployer API)."""
    import os

    return "python %s %s" % (os.path.basename(_flow_file) if _flow_file else "flow.py", rest)


class DownloadError(KestraError):
    """A file from a package repository could not be fetched or verified."""

    def __init__(self, url, reason, hint=None):
        message = "Could not download %s: %s" % (url, reason)
        if hint:
            message = "%s. %s" % (message, hint)
        super().__init__(message)
        self.url = url
        self.reason = reason


class JavaNotFound(KestraError):
    """No Java runtime recent enough to run the Kestra server."""


class ServerError(KestraError):
    """The local Kestra server could not be started, reached or stopped."""


def reports_errors(secho):
    """A decorator for click commands: a `KestraError` becomes one readable message and exit 1.

    `secho` is the click in use (the console command's, or Metaflow's vendored one).
    """
    import functools
    import sys

    def decorator(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except KestraError as err:
                secho(err.render(), fg="red", err=True)
                sys.exit(1)

        return wrapper

    return decorator

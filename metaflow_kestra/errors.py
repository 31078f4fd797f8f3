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

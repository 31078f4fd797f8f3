"""The local server's login and state files: random per state directory, readable by this user only.

A fixed password would let anyone on the machine run code as the developer through the server
(issue 26, finding 1). So each state directory gets its own password, drawn once with `secrets`
and kept in a file only this user can read, beside the other files that hold it (the server's
config and `server.json`); the commands of this package read it from there.
"""

import os
import secrets
import string

from ..errors import ServerError
from ..private_dirs import describe, is_private

USERNAME = "admin@metaflow-kestra.dev"
PASSWORD_FILE = "password"


def private_state_dir(path):
    """Create the state directory 0700, or tighten one this user made before (0755 in older
    releases); refuse one that others could write into or that is not ours."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        _tighten(path)
    if not is_private(str(path), create=False):
        raise ServerError(
            "The local server's state directory %s is not private to this user: %s. It holds the "
            "server's password, flows and run data; remove it (or choose another port or "
            "METAFLOW_KESTRA_HOME) and start again." % (path, describe(str(path))))
    return path


def _tighten(path):
    """0700 for a directory of ours that no one else could write into; anything else is left for
    the check to refuse."""
    try:
        handle = os.open(str(path), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        info = os.fstat(handle)
        if info.st_uid == os.getuid() and not info.st_mode & 0o022:
            os.fchmod(handle, 0o700)
    finally:
        os.close(handle)


def password_for(state_dir):
    """The state directory's password: the one stored there, or a new random one, stored."""
    path = state_dir / PASSWORD_FILE
    try:
        stored = read_private(path).strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        return stored
    password = new_password()
    write_private(path, password + "\n")
    return password


def new_password():
    """~143 bits from `secrets`, with the upper-case letter and digit Kestra 1.x asks of a password."""
    while True:
        password = secrets.token_urlsafe(24)
        if any(c in string.ascii_uppercase for c in password) and any(c in string.digits for c in password):
            return password


def write_private(path, text):
    """Write `text` to `path`, mode 0600 (also when it existed with another mode), never through a link."""
    handle = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", closefd=False) as stream:
            stream.write(text)
    finally:
        os.close(handle)


def read_private(path):
    """The text of a file of this user's in a private directory, never through a link."""
    handle = os.open(str(path), os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(handle) as stream:
        return stream.read()

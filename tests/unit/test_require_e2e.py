"""CI sets METAFLOW_KESTRA_REQUIRE_E2E=1: then no end-to-end test may skip, however it skips."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TESTS = textwrap.dedent('''
    import pytest

    e2e = pytest.mark.e2e

    @e2e
    def test_skips_in_its_body():
        pytest.skip("no server")

    @e2e
    def test_imports_what_is_missing():
        pytest.importorskip("a_module_nobody_has")

    @pytest.fixture
    def server():
        pytest.skip("unobtainable")

    @e2e
    def test_skips_in_a_fixture(server):
        pass

    @e2e
    def test_knows_an_engine_bug():
        pytest.xfail("a known engine bug")

    @e2e
    def test_runs():
        pass

    def test_a_unit_test_may_skip():
        pytest.skip("not for this machine")
''')


def run_suite(tmp_path, require):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_runtest_makereport, pytest_terminal_summary\n")
    (tmp_path / "test_cases.py").write_text(TESTS)
    env = dict(os.environ, PYTHONPATH=str(ROOT), METAFLOW_KESTRA_REQUIRE_E2E=require)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-W", "ignore",
                           "--rootdir", str(tmp_path), str(tmp_path)],
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    return done.stdout


def test_under_require_every_kind_of_e2e_skip_fails_and_the_summary_counts_them(tmp_path):
    out = run_suite(tmp_path, "1")
    for name in ("test_skips_in_its_body", "test_imports_what_is_missing"):
        assert "FAILED test_cases.py::%s" % name in out, out
    assert "ERROR test_cases.py::test_skips_in_a_fixture" in out, out
    assert "may not skip (unobtainable)" in out
    assert "XFAIL test_cases.py::test_knows_an_engine_bug" in out
    assert "SKIPPED [1] test_cases.py" in out and "not for this machine" in out
    assert "end-to-end tests on Kestra" in out
    assert ": 1 passed, 2 failed, 1 error, 0 skipped, 1 xfailed, 0 xpassed" in out, out


def test_without_require_e2e_tests_skip_as_usual(tmp_path):
    out = run_suite(tmp_path, "0")
    assert "1 passed, 4 skipped, 1 xfailed" in out, out
    assert ": 1 passed, 0 failed, 0 error, 3 skipped, 1 xfailed, 0 xpassed" in out, out

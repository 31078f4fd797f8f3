"""Parameter values of the size a local run accepts reach the step unchanged on Kestra.

Linux caps one environment variable (and one argument) at 128 KiB; together, values may
be far larger. Two values of 100 KiB each, with Pebble syntax and non-ASCII inside.
"""

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0


def test_two_parameters_of_100_kib_each(workspace):
    import ast

    chunk = "{{ x }} é ✓ \\ ' \" %s\n" % ("y" * 40)
    text = chunk * (100 * 1024 // len(chunk.encode()) + 1)  # just over 100 KiB in UTF-8
    needed = text[::-1]
    _, run_id = run_on_kestra(workspace, "params_flow", "--text", text, "--needed", needed)
    start = dict(workspace.artifacts("ParamsFlow", run_id)["steps"]["start"][0])
    seen = ast.literal_eval(start["seen"])
    assert seen["text"] == text and seen["needed"] == needed
    assert len((text + needed).encode()) > 128 * 1024

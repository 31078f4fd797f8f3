"""METAFLOW_RUN_<NAME> at deploy time: the defaults a local `run` would take from the environment."""

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0


def test_parameter_and_include_file_defaults_from_the_environment_match_a_local_run(workspace):
    (workspace.root / "declared-notes.txt").write_text("the declared file\n")
    (workspace.root / "other-notes.txt").write_text("the file the environment names {{ x }}\n")
    local = workspace.artifacts("IncludeFileFlow", workspace.run_locally("include_file_flow"))
    _, run_id = run_on_kestra(workspace, "include_file_flow")
    assert workspace.artifacts("IncludeFileFlow", run_id) == local
    assert "'alpha': 1" in seen(local) and "the declared file" in seen(local)

    workspace.env.update(METAFLOW_RUN_ALPHA="5", METAFLOW_RUN_NOTES="other-notes.txt")
    local = workspace.artifacts("IncludeFileFlow", workspace.run_locally("include_file_flow"))
    done, run_id = run_on_kestra(workspace, "include_file_flow")
    assert "its deployed default is METAFLOW_RUN_NOTES from this environment" in done.stderr
    assert workspace.artifacts("IncludeFileFlow", run_id) == local
    assert "'alpha': 5" in seen(local) and "the file the environment names {{ x }}" in seen(local)


def seen(run):
    return dict(run["steps"]["start"][0])["seen"]

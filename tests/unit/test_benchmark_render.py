"""The benchmark page is rendered from stored results: newest wins per workload and system,
every row names its result, ratios never mix two results, overheads at or below zero give no
ratio; the round-robin order; and the artifact comparison that decides "correct"."""

import json

from benchmarks import results as stored
from benchmarks.correctness import difference
from benchmarks.render import page, ratios_table, render, results_table
from benchmarks.schedule import round_robin
from benchmarks.workloads import ALT, LOCAL, OURS


def _run(wall, correct=True, why_not=None, **extra):
    run = {"repeat": 1, "wall": wall, "execution_seconds": None, "compile": None, "yaml_bytes": None, "gaps": [],
           "peak_rss_mb": 100.0, "run_id": "r", "error": None, "reference": False, "compared_with": None,
           "correct": correct, "why_not": why_not}
    run.update(extra)
    return run


def _system(*walls, **extra):
    return {"not_run": None, "runs": [_run(wall, **extra) for wall in walls]}


def _result(started, commit, workloads, file=None):
    return {"schema": 1, "kind": "systems", "command": "python benchmarks/run.py", "argv": [], "started": started,
            "finished": started, "commit": commit, "dirty": False, "changed": [],
            "machine": {"platform": "Linux", "processor": "x86_64", "cpus": 2, "python": "3.11"},
            "servers": [{"kestra_version": "1.3.31", "line": "1.3", "url": "http://127.0.0.1:18480",
                         "reused": False, "workloads": workloads}],
            "file": file or "%s-systems.json" % started}


def _workload(name, tasks, systems):
    return {"name": name, "family": "linear", "tasks": tasks, "repeat": 1, "order": [list(systems)],
            "systems": systems}


# An older run measured all three systems; a newer one only local and ours, on another day.
OLD = _result("2026-12-01T10:00:00Z", "aaaaaaa", [
    _workload("10-step linear", 10, {LOCAL: _system(3.0), OURS: _system(5.0), ALT: _system(13.0)}),
])
NEW = _result("2026-12-05T10:00:00Z", "bbbbbbb", [
    _workload("10-step linear", 10, {LOCAL: _system(4.0), OURS: _system(6.0)}),
])


def _rows(table, *words):
    return [line for line in table.splitlines() if all(word in line for word in words)]


def test_the_newest_result_wins_per_workload_and_system_and_each_row_names_its_result():
    table = results_table([OLD, NEW])
    (local,) = _rows(table, "| local |")
    (ours,) = _rows(table, "| ours |")
    (alt,) = _rows(table, "| alternative |")
    assert "4.00 / 4.00 / 4.00" in local and local.endswith("| 2026-12-05, bbbbbbb |")
    assert "6.00 / 6.00 / 6.00" in ours and ours.endswith("| 2026-12-05, bbbbbbb |")
    # Only the old run ran the alternative: its row is the old one, and says so.
    assert "13.00" in alt and alt.endswith("| 2026-12-01, aaaaaaa |")


def test_overhead_per_task_uses_the_local_run_of_the_same_result():
    table = results_table([OLD, NEW])
    (ours,) = _rows(table, "| ours |")
    (alt,) = _rows(table, "| alternative |")
    assert "| 0.200 |" in ours  # (6 - 4) / 10, both from the new result
    assert "| 1.000 |" in alt  # (13 - 3) / 10, the old result's own local run, not the new one's


def test_ratios_come_from_one_result_only():
    table = ratios_table([OLD, NEW])
    (row,) = _rows(table, "10-step linear")
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # The result that ran the most systems (OLD: local, ours and the alternative), whole: a later
    # run of local and ours alone (a before/after of our own) does not hide the comparison.
    assert cells[1] == "1.67" and cells[3] == "0.38" and cells[-1] == "2026-12-01, aaaaaaa"
    # Never a ratio across results: NEW's ours against OLD's alternative (6 / 13).
    assert "0.46" not in table and "1.50" not in table


def test_of_results_with_as_many_systems_the_newest_gives_the_ratios():
    newer = _result("2026-12-06T10:00:00Z", "ccccccc", [
        _workload("10-step linear", 10, {LOCAL: _system(4.0), OURS: _system(4.4), ALT: _system(12.0)}),
    ])
    (row,) = _rows(ratios_table([OLD, NEW, newer]), "10-step linear")
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "1.10" and cells[-1] == "2026-12-06, ccccccc"


def test_ratios_against_the_alternative_within_one_result():
    table = ratios_table([OLD])
    (row,) = _rows(table, "10-step linear")
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[3] == "0.38"  # 5 / 13
    assert cells[4] == "0.20"  # (5 - 3) / 10 over (13 - 3) / 10


def test_no_ratio_of_overheads_when_one_is_at_or_below_zero():
    below = _result("2026-12-06T10:00:00Z", "ccccccc", [
        _workload("10-step linear", 10, {LOCAL: _system(3.0), OURS: _system(2.5), ALT: _system(13.0)}),
        _workload("200-step linear", 200, {LOCAL: _system(60.0), OURS: _system(60.0), ALT: _system(900.0)}),
    ])
    table = ratios_table([below])
    for name in ("10-step linear", "200-step linear"):
        (row,) = _rows(table, name)
        assert [cell.strip() for cell in row.strip("|").split("|")][4] == "-\u00b9"
    assert "\u00b9 Not given: an overhead per task at or below zero" in table


def test_a_wrong_system_gives_no_ratio_and_its_row_says_why():
    wrong = _result("2026-12-06T10:00:00Z", "ccccccc", [
        _workload("10-step linear", 10, {
            LOCAL: _system(3.0), OURS: _system(2.5),
            ALT: _system(13.0, correct=False,
                         why_not="not the local run's artifacts: step end: artifacts total differ"),
        }),
    ])
    (row,) = _rows(ratios_table([wrong]), "10-step linear")
    assert "alternative wrong" in row
    (alt,) = _rows(results_table([wrong]), "| alternative |")
    assert "**wrong**: not the local run's artifacts: step end: artifacts total differ" in alt


def test_the_page_lists_every_result_file_with_its_command(tmp_path):
    for result in (OLD, NEW):
        stored.write({k: v for k, v in result.items() if k != "file"}, tmp_path)
    output = tmp_path / "benchmarks.md"
    render(tmp_path, output)
    text = output.read_text()
    assert "`20261201T100000Z-systems.json`" in text and "`20261205T100000Z-systems.json`" in text
    assert text.count("`python benchmarks/run.py`") >= 2
    assert (tmp_path / "benchmarks.svg").read_text().startswith("<svg")
    assert "newest" in page([OLD, NEW], "")


def test_a_stored_result_is_plain_json_with_a_stable_name(tmp_path):
    result = stored.new_result("systems", "benchmarks/run.py", ["--repeat", "1"])
    path = stored.write(result, tmp_path)
    assert path.name == result["started"].replace("-", "").replace(":", "") + "-systems.json"
    loaded = json.loads(path.read_text())
    assert list(loaded)[:6] == ["schema", "kind", "command", "argv", "started", "finished"]
    assert loaded["command"] == "python benchmarks/run.py --repeat 1"
    assert set(loaded["machine"]) == {"platform", "processor", "cpus", "python"}
    assert isinstance(loaded["dirty"], bool) and loaded["commit"]
    assert [r["file"] for r in stored.load_all(tmp_path)] == [path.name]


def test_round_robin_rotates_so_no_system_always_runs_last():
    systems = ["local", "ours", "subflows", "alternative"]
    order = round_robin(systems, 4)
    assert order[0] == ["local", "ours", "subflows", "alternative"]
    assert order[1] == ["ours", "subflows", "alternative", "local"]
    assert [repeat[-1] for repeat in order] == ["alternative", "local", "ours", "subflows"]
    assert all(sorted(repeat) == sorted(systems) for repeat in order)
    assert round_robin(systems, 5)[4] == order[0]
    assert round_robin([], 2) == [[], []]


def _artifacts(**steps):
    return {"successful": True, "steps": steps}


REFERENCE = _artifacts(start=[[["items", "d1"], ["name", "n"]]],
                       work=[[["name", "n"], ["value", "v0"]], [["name", "n"], ["value", "v2"]]])


def test_equal_artifacts_are_correct():
    same = json.loads(json.dumps(REFERENCE))
    assert difference(REFERENCE, same) is None


def test_a_differing_artifact_is_named_with_its_step():
    other = _artifacts(start=REFERENCE["steps"]["start"],
                       work=[[["name", "n"], ["value", "v0"]], [["name", "n"], ["value", "vX"]]])
    assert difference(REFERENCE, other) == "not the local run's artifacts: step work: artifacts value differ"


def test_missing_tasks_steps_and_an_unsuccessful_run_are_differences():
    fewer = _artifacts(start=REFERENCE["steps"]["start"], work=REFERENCE["steps"]["work"][:1])
    assert "step work: 1 tasks, the local run 2" in difference(REFERENCE, fewer)
    no_work = _artifacts(start=REFERENCE["steps"]["start"])
    assert difference(REFERENCE, no_work) == "steps differ from the local run's: missing work"
    failed = dict(REFERENCE, successful=False)
    assert difference(REFERENCE, failed).startswith("the Metaflow run is not successful")


def test_run_dependent_artifacts_can_be_left_out():
    other = _artifacts(start=[[["items", "d1"], ["name", "n"], ["started_at", "t2"]]],
                       work=REFERENCE["steps"]["work"])
    reference = _artifacts(start=[[["items", "d1"], ["name", "n"], ["started_at", "t1"]]],
                           work=REFERENCE["steps"]["work"])
    assert "started_at" in difference(reference, other)
    assert difference(reference, other, ignore={"started_at"}) is None


def test_kestra_lines_are_compared_within_one_result():
    def server(version, local, ours):
        return {"kestra_version": version, "line": version[:3], "url": "u", "reused": False,
                "workloads": [_workload("10-step linear", 10, {LOCAL: _system(local), OURS: _system(ours)})]}

    both = dict(_result("2026-12-03T10:00:00Z", "ddddddd", []), kind="lines",
                servers=[server("1.3.31", 3.0, 2.0), server("2.0.0", 3.0, 3.0)])
    later = dict(_result("2026-12-04T10:00:00Z", "eeeeeee", []), kind="lines", servers=[server("2.0.0", 3.0, 4.0)])
    from benchmarks.render import lines_section

    text = lines_section([both, later])
    (row_13,) = _rows(text, "| 1.3.31 |")
    (row_20,) = _rows(text, "| 2.0.0 |", "3.00 / 3.00 / 3.00 | 4.00")
    assert row_13.endswith("| 2026-12-03, ddddddd |") and row_20.endswith("| 2026-12-04, eeeeeee |")
    # 2.0 against 1.3 from the result that ran both (3 / 2), not from the later 2.0-only one (4 / 2).
    (ratio,) = _rows(text, "2.0.0 / 1.3.31")
    assert "| 1.50 | +0.100 | 0.67 / 1.00 | 2026-12-03, ddddddd |" in ratio


def test_the_width_sweep_compares_the_default_with_the_fastest_forced_mode():
    from benchmarks.render import modes_section
    from benchmarks.workloads import MODES

    default, inline, subflows = MODES
    sweep = dict(_result("2026-12-07T10:00:00Z", "ccccccc", [
        _workload("10-way foreach", 13, {LOCAL: _system(9.0), default: _system(6.0, 6.2, 6.4),
                                         inline: _system(6.0), subflows: _system(5.0)}),
        _workload("1,000-way foreach", 1003, {
            LOCAL: {"not_run": "not run: too long", "runs": []}, default: _system(150.0, correct=None),
            inline: {"not_run": "not run: quadratic", "runs": []}, subflows: _system(140.0, correct=None)}),
    ]), kind="modes")
    table = modes_section([sweep])
    assert _rows(table, "| 10-way foreach |")[0].split("|")[-3].strip() == "1.24"  # 6.2 / 5.0
    thousand = _rows(table, "| 1,000-way foreach |")[0]
    assert "not run: quadratic" in thousand and thousand.split("|")[-3].strip() == "1.07"
    assert modes_section([]).startswith("(not measured yet")

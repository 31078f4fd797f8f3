"""Run and task ids: derived, reversible, never numeric, safe as path components."""

import pytest

from metaflow_kestra.errors import KestraError
from metaflow_kestra.ids import (
    execution_id_of,
    parameters_pathspec,
    parse_task_id,
    pathspec,
    run_id_for,
    task_id_for,
)


def test_run_id_round_trips_and_says_it_came_from_kestra():
    run_id = run_id_for("4wjtkzwVGBM9yKnjyKvTf")
    assert run_id == "kestra-4wjtkzwVGBM9yKnjyKvTf"
    assert execution_id_of(run_id) == "4wjtkzwVGBM9yKnjyKvTf"


@pytest.mark.parametrize("bad", ["", "a/b", "x y", "../etc"])
def test_a_malformed_execution_id_is_refused(bad):
    with pytest.raises(KestraError, match="Not a Kestra execution id"):
        run_id_for(bad)


def test_a_run_not_from_kestra_is_named():
    with pytest.raises(KestraError, match="Run 1712345 was not started by Kestra"):
        execution_id_of("1712345")


@pytest.mark.parametrize(
    "args, expected",
    [
        (("start",), "start"),
        (("square", (2,)), "square-2"),
        (("cell", (1, 0)), "cell-1-0"),
        (("loop", (), 3), "loop-r3"),
        (("loop", (4,), 1), "loop-4-r1"),
    ],
)
def test_task_ids_follow_step_indices_and_iteration(args, expected):
    task_id = task_id_for(*args)
    assert task_id == expected
    assert not task_id.isdigit() and "/" not in task_id
    step = args[0]
    indices = args[1] if len(args) > 1 else ()
    iteration = args[2] if len(args) > 2 else None
    assert parse_task_id(task_id) == (step, tuple(indices), iteration)


def test_ids_are_unique_across_steps_and_indices():
    ids = {task_id_for(step, path) for step in ("a", "b") for path in [(), (0,), (1,), (0, 1), (1, 0), (10,), (1, 0, 0)]}
    assert len(ids) == 14


@pytest.mark.parametrize("bad", [("1step",), ("a/b",), ("step", (-1,)), ("step", (), 0)])
def test_invalid_parts_are_refused(bad):
    with pytest.raises(ValueError):
        task_id_for(*bad)


def test_pathspecs():
    assert pathspec("kestra-x", "end", "end") == "kestra-x/end/end"
    assert parameters_pathspec("kestra-x") == "kestra-x/_parameters/params"

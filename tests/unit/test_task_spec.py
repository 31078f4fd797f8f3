"""Input paths of every kind of step, from compile-time specs and run facts."""

import pytest

from metaflow_kestra.structure import build_structure
from metaflow_kestra.task_spec import (
    MissingInput, ParentRef, RunState, TaskSpec, input_paths, iteration_input_paths, task_specs,
)
from tests.flow_loading import load_graph

RUN = "kestra-abc"


class FakeRun(RunState):
    def __init__(self, finished=(), splits=None, iterations=None):
        self.done = set(finished)
        self.splits = splits or {}
        self.iterations = iterations or {}

    def finished(self, pathspecs):
        return {p for p in pathspecs if p in self.done}

    def num_splits(self, pathspec):
        return self.splits[pathspec]

    def last_iteration(self, run_id, step, index_path):
        return self.iterations.get((step, tuple(index_path)))


def specs(name):
    graph = load_graph(name)
    return task_specs(graph, build_structure(graph, name))


def test_start_reads_the_parameters_task():
    assert input_paths(specs("linear_flow")["start"], RUN, (), FakeRun()) == [RUN + "/_parameters/params"]


def test_the_start_step_is_the_one_the_flow_names():
    for name, start in [("named_ends_flow", "begin"), ("named_ends_foreach_flow", "fan_out"),
                        ("single_step_flow", "only")]:
        all_specs = specs(name)
        assert [step for step, spec in all_specs.items() if spec.start] == [start]
        assert input_paths(all_specs[start], RUN, (), FakeRun()) == [RUN + "/_parameters/params"]


def test_linear_step_reads_its_parent():
    spec = specs("linear_flow")["end"]
    assert spec.groups == ((ParentRef("b", 0),),)
    assert input_paths(spec, RUN, (), FakeRun()) == [RUN + "/b/b"]


def test_static_join_reads_every_branch():
    # split_flow: start -> (left | right -> right2) -> join: each branch's last step.
    spec = specs("split_flow")["join"]
    assert sorted(input_paths(spec, RUN, (), FakeRun())) == [RUN + "/left/left", RUN + "/right2/right2"]


def test_foreach_body_takes_its_split_index_and_reads_the_foreach_step():
    all_specs = specs("foreach_flow")
    assert [name for name, s in all_specs.items() if s.split_index] == ["square"]
    assert all_specs["start"].fans_out and all_specs["square"].depth == 1
    assert input_paths(all_specs["square"], RUN, (4,), FakeRun()) == [RUN + "/start/start"]


def test_foreach_join_reads_every_item_up_to_the_cardinality():
    # nested_foreach_flow: start -foreach-> row -foreach-> cell -> join_cols -> join_rows -> end.
    inner_join = specs("nested_foreach_flow")["join_cols"]
    assert (inner_join.foreach_join, inner_join.depth) == ("row", 1)
    items = [RUN + "/cell/cell-2-0", RUN + "/cell/cell-2-1", RUN + "/cell/cell-2-2"]
    state = FakeRun(finished=items, splits={RUN + "/row/row-2": 3})
    assert input_paths(inner_join, RUN, (2,), state) == items


def test_a_foreach_join_refuses_to_run_while_an_item_has_not_finished():
    # Kestra 2.0.0 can end a Loop as successful after an item failed (a late item's success wins).
    spec = specs("foreach_flow")["join"]
    items = ["%s/square/square-%d" % (RUN, i) for i in range(3)]
    state = FakeRun(finished=items[:1] + items[2:], splits={RUN + "/start/start": 3})
    with pytest.raises(MissingInput, match=r"join joins a foreach, but task square-1 of run kestra-abc did not "
                                           r"finish successfully.*resume --clone-run-id kestra-abc"):
        input_paths(spec, RUN, (), state)


def test_switch_convergence_reads_the_case_that_ran():
    spec = specs("switch_flow")["after"]
    state = FakeRun(finished=[RUN + "/low/low"])
    assert input_paths(spec, RUN, (), state) == [RUN + "/low/low"]


def test_a_skipping_case_reads_the_switch_step_unless_a_later_case_ran():
    spec = specs("switch_skip_flow")["after"]
    assert [ref.step for ref in spec.groups[0]] == ["start", "extra"]
    assert input_paths(spec, RUN, (), FakeRun(finished=[RUN + "/start/start"])) == [RUN + "/start/start"]
    both = FakeRun(finished=[RUN + "/start/start", RUN + "/extra/extra"])
    assert input_paths(spec, RUN, (), both) == [RUN + "/extra/extra"]


def test_no_finished_parent_is_an_error_naming_the_step():
    with pytest.raises(MissingInput, match="Step after found no finished task among its parents high, low"):
        input_paths(specs("switch_flow")["after"], RUN, (), FakeRun())


def test_loop_iterations_chain_and_the_exit_reads_the_last_one():
    all_specs = specs("recursive_flow")
    loop = all_specs["loop"]
    assert loop.loop and loop.chooses
    assert iteration_input_paths(loop, RUN, (), 1, FakeRun()) == [RUN + "/start/start"]
    assert iteration_input_paths(loop, RUN, (), 3, FakeRun()) == [RUN + "/loop/loop-r2"]
    state = FakeRun(finished=[RUN + "/loop/loop-r3"], iterations={("loop", ()): 3})
    assert input_paths(all_specs["end"], RUN, (), state) == [RUN + "/loop/loop-r3"]


def test_index_path_must_match_the_depth():
    with pytest.raises(ValueError, match="foreach depth 0"):
        input_paths(specs("linear_flow")["end"], RUN, (1,), FakeRun())


def test_spec_json_round_trips_and_leaves_defaults_out():
    for spec in specs("switch_in_foreach_flow").values():
        assert TaskSpec.from_json(spec.to_json()) == spec
    assert "loop" not in TaskSpec("a", 0).to_json()


def test_a_task_spec_from_another_version_ignores_fields_it_does_not_know():
    import json

    from metaflow_kestra.task_spec import ParentRef, TaskSpec

    spec = TaskSpec(step="join", depth=0, groups=((ParentRef("a", 0),),), start=False)
    data = json.loads(spec.to_json())
    data["future_field"] = True
    data["groups"][0][0]["future_ref_field"] = 3
    assert TaskSpec.from_json(json.dumps(data)) == spec

"""Every graph shape Metaflow 2.19 accepts becomes a tree with each step exactly once."""

import pytest

from metaflow_kestra.structure import (
    ForEach,
    Loop,
    Parallel,
    Sequence,
    Step,
    Switch,
    UnsupportedFlow,
    build_structure,
    steps_in,
)
from tests.flow_loading import load_graph


def seq(*items):
    return Sequence(tuple(Step(i) if isinstance(i, str) else i for i in items))


def structure(name):
    graph = load_graph(name)
    tree = build_structure(graph, name)
    assert sorted(steps_in(tree)) == sorted(node.name for node in graph)
    return tree


def test_linear():
    assert structure("linear_flow") == seq("start", "a", "b", "end")


def test_split_with_a_multi_step_branch():
    assert structure("split_flow") == seq(
        "start",
        Parallel("start", (seq("left"), seq("right", "right2")), "join"),
        "join",
        "end",
    )


def test_foreach():
    assert structure("foreach_flow") == seq(
        "start", ForEach("start", seq("square"), "join"), "join", "end"
    )


def test_nested_foreach():
    inner = ForEach("row", seq("cell"), "join_cols")
    assert structure("nested_foreach_flow") == seq(
        "start",
        ForEach("start", seq("row", inner, "join_cols"), "join_rows"),
        "join_rows",
        "end",
    )


def test_split_inside_foreach():
    body = seq("fan", Parallel("fan", (seq("plus"), seq("minus")), "merge"), "merge")
    assert structure("split_in_foreach_flow") == seq(
        "start", ForEach("start", body, "collect"), "collect", "end"
    )


def test_foreach_inside_split():
    fan = seq("fanout", ForEach("fanout", seq("work"), "gather"), "gather")
    assert structure("foreach_in_split_flow") == seq(
        "start", Parallel("start", (fan, seq("single")), "join"), "join", "end"
    )


def test_switch_converges():
    assert structure("switch_flow") == seq(
        "start",
        Switch("start", (("high", seq("high")), ("low", seq("low")))),
        "after",
        "end",
    )


def test_switch_cases_are_keyed_by_target_step_once_each():
    # "slow" and "careful" both lead to extra; "fast" goes straight to after.
    assert structure("switch_skip_flow") == seq(
        "start",
        Switch("start", (("after", seq()), ("extra", seq("extra")))),
        "after",
        "end",
    )


def test_switch_inside_foreach():
    body = seq(
        "classify",
        Switch("classify", (("even", seq("even")), ("odd", seq("odd")))),
        "converge",
    )
    assert structure("switch_in_foreach_flow") == seq(
        "start", ForEach("start", body, "join"), "join", "end"
    )


def test_recursive_step_is_a_loop():
    assert structure("recursive_flow") == seq("start", Loop("loop"), "end")


def test_start_and_end_steps_are_whatever_the_flow_names():
    assert structure("named_ends_flow") == seq("begin", "middle", "finish")
    assert structure("named_ends_split_flow") == seq(
        "fork", Parallel("fork", (seq("left"), seq("right")), "merge"), "merge", "report"
    )
    assert structure("named_ends_foreach_flow") == seq(
        "fan_out", ForEach("fan_out", seq("shout"), "gather"), "gather", "done"
    )
    assert structure("named_ends_switch_flow") == seq(
        "choose", Switch("choose", (("high", seq("high")), ("low", seq("low")))), "wrap_up"
    )


def test_a_single_step_is_both_the_start_and_the_end():
    assert structure("single_step_flow") == seq("only")


def test_parallel_is_refused_with_the_step_name():
    with pytest.raises(UnsupportedFlow, match="step train: @parallel"):
        build_structure(load_graph("parallel_flow"), "ParallelFlow")


def test_a_long_chain_needs_no_recursion(tmp_path):
    # Metaflow's own graph needs one stack frame per step of a chain; ours needs none.
    import importlib.util
    import sys

    from metaflow.graph import FlowGraph

    from benchmarks.flows import linear_flow, write

    name, path = write(tmp_path, linear_flow(900))
    spec = importlib.util.spec_from_file_location("long_flow", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph = FlowGraph(getattr(module, name))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        tree = build_structure(graph, name)
    finally:
        sys.setrecursionlimit(limit)
    assert len(steps_in(tree)) == 900

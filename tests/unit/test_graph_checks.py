"""Our linear-time acyclicity check finds what Metaflow's finds, without its quadratic walk."""

from types import SimpleNamespace

import pytest
from metaflow.lint import LintWarn, check_for_acyclicity

from metaflow_kestra.graph_checks import check_acyclic
from tests.flow_loading import load_graph
from tests.shapes import SHAPES


class _Graph(dict):
    """Just what the checks read of Metaflow's FlowGraph: iteration over nodes, lookup by name."""

    def __iter__(self):
        return iter(self.values())


def graph(**edges):
    types = {name: ("split-switch" if name.startswith("switch") else "linear") for name in edges}
    return _Graph({name: SimpleNamespace(name=name, out_funcs=list(out), type=types[name], tail_next_lineno=1,
                                         source_file="flow.py") for name, out in edges.items()})


@pytest.mark.parametrize("name", sorted({shape for shape, _, _ in SHAPES} | {"recursive_flow", "switch_skip_flow"}))
def test_every_sample_flow_passes_both_checks(name):
    check_for_acyclicity(load_graph(name))
    check_acyclic(load_graph(name))


@pytest.mark.parametrize("edges,loop", [
    (dict(start=["a"], a=["b"], b=["a"]), "a->b->a"),
    (dict(start=["start"]), "start->start"),
    (dict(start=["a"], a=["b", "c"], b=["d"], c=["d"], d=["c"]), "d->c->d"),
    (dict(start=["switch"], switch=["a", "end"], a=["switch"], end=[]), "switch->a->switch"),
])
def test_a_loop_is_refused_with_metaflows_message(edges, loop):
    with pytest.raises(LintWarn) as ours:
        check_acyclic(graph(**edges))
    with pytest.raises(LintWarn) as theirs:
        check_for_acyclicity(graph(**edges))
    assert "There is a loop in your flow: *%s*" % loop in str(ours.value)
    assert str(theirs.value).split("*")[0] == str(ours.value).split("*")[0]


def test_a_switch_naming_itself_is_recursion_not_a_loop():
    edges = dict(start=["switch_loop"], switch_loop=["switch_loop", "end"], end=[])
    check_for_acyclicity(graph(**edges))
    check_acyclic(graph(**edges))


def test_a_long_chain_is_checked_without_recursion():
    names = ["s%d" % i for i in range(5000)]
    check_acyclic(graph(**{a: [b] for a, b in zip(names, names[1:])}, **{names[-1]: []}))

"""Metaflow's step graph as a tree of nested blocks.

Everything downstream (the Kestra flow model, input paths, ids) is a
recursive function of this tree, so any nesting of split, foreach, switch
and recursion compiles without a special case per combination.

    Sequence  steps and blocks that run one after the other
    Parallel  the branches of a static split, between the split step and its join
    ForEach   the body of a foreach, once per item, between the foreach step and its join
    Switch    the cases of a conditional step, up to where they converge
    Loop      a step whose switch can choose the step itself: it repeats until it does not

`build_structure` checks that every step of the graph appears exactly once;
a flow it cannot express is refused with the step's name, never compiled
into a flow that silently skips steps.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Tuple

from .errors import KestraError, flow_command


class UnsupportedFlow(KestraError):
    """The flow uses a shape or feature that cannot be compiled to Kestra."""


@dataclass(frozen=True)
class Step:
    name: str


@dataclass(frozen=True)
class Sequence:
    items: Tuple = ()


@dataclass(frozen=True)
class Parallel:
    split: str
    branches: Tuple[Sequence, ...]
    join: str


@dataclass(frozen=True)
class ForEach:
    split: str
    body: Sequence
    join: str


@dataclass(frozen=True)
class Switch:
    step: str
    # (target step, branch) per distinct target, in declaration order; the
    # branch is empty when the case goes straight to where the cases converge.
    cases: Tuple[Tuple[str, Sequence], ...]


@dataclass(frozen=True)
class Loop:
    step: str  # runs once per iteration, while its switch chooses the step itself


def build_structure(graph, flow_name="flow"):
    """The tree for a `metaflow.graph.FlowGraph`, from its start step to its end step inclusive.

    The graph names them (`@step(start=True)`, `@step(end=True)`, or the steps called
    `start` and `end`); one step may be both.
    """
    _refuse_parallel(graph, flow_name)
    start = start_step(graph, flow_name)
    order = _topological_order(graph, start)
    tree = _Walker(graph, order, flow_name).walk(start, None)
    _check_complete(graph, tree, flow_name)
    return tree


def start_step(graph, flow_name="flow"):
    """The name of the flow's start step, as Metaflow's graph resolves it."""
    name = getattr(graph, "start_step", "start")
    if name not in graph:
        raise UnsupportedFlow(
            "Flow %s has no start step: name one with @step(start=True) (or call it `start`), "
            "as `%s` says." % (flow_name, flow_command("check"))
        )
    return name


def steps_in(block):
    """Every step name in `block`, in walk order (each step once)."""
    if isinstance(block, Step):
        return [block.name]
    if isinstance(block, Loop):
        return [block.step]
    if isinstance(block, Sequence):
        return [name for item in block.items for name in steps_in(item)]
    if isinstance(block, Parallel):
        return [name for branch in block.branches for name in steps_in(branch)]
    if isinstance(block, ForEach):
        return steps_in(block.body)
    if isinstance(block, Switch):
        return [name for _, branch in block.cases for name in steps_in(branch)]
    raise TypeError("not a structure block: %r" % (block,))


def foreaches_in(block):
    """Every ForEach block in `block`, outermost first (the walk of `steps_in`)."""
    if isinstance(block, ForEach):
        return [block] + foreaches_in(block.body)
    if isinstance(block, Sequence):
        return [found for item in block.items for found in foreaches_in(item)]
    if isinstance(block, Parallel):
        return [found for branch in block.branches for found in foreaches_in(branch)]
    if isinstance(block, Switch):
        return [found for _, branch in block.cases for found in foreaches_in(branch)]
    return []


class _Walker:
    def __init__(self, graph, order, flow_name):
        self.graph = graph
        self.rank = {name: index for index, name in enumerate(order)}
        self.flow_name = flow_name

    def walk(self, name, stop):
        """The Sequence from step `name` up to (not including) step `stop`."""
        items = []
        while name is not None and name != stop:
            node = self.graph[name]
            if node.type == "split-switch" and name in node.switch_cases.values():
                items.append(Loop(name))
                name = self._after_switch(node, stop, items, skip=name)
                continue
            items.append(Step(name))
            if node.type == "end":  # the end step (also when it is the start step too)
                name = None
            elif node.type == "split":
                join = self._join_of(node)
                branches = tuple(self.walk(branch, join) for branch in node.out_funcs)
                items.append(Parallel(name, branches, join))
                name = join
            elif node.type == "foreach":
                join = self._join_of(node)
                items.append(ForEach(name, self.walk(node.out_funcs[0], join), join))
                name = join
            elif node.type == "split-switch":
                name = self._after_switch(node, stop, items)
            else:  # a start step that does not branch, linear, join
                name = node.out_funcs[0]
        return Sequence(tuple(items))

    def _after_switch(self, node, stop, items, skip=None):
        """Append the Switch over `node`'s cases (but `skip`); return where they converge."""
        # Several case values may lead to one step: the runtime reports the step chosen.
        targets = list(dict.fromkeys(s for s in node.switch_cases.values() if s != skip))
        if len(targets) == 1:
            # A loop with a single way out: the exit needs no switch.
            return targets[0]
        converge = self._convergence(targets, stop)
        cases = tuple((step, self.walk(step, converge)) for step in targets)
        items.append(Switch(node.name, cases))
        return converge

    def _convergence(self, starts, stop):
        """The earliest step every case reaches (or `stop`), in topological order."""
        common = set.intersection(*(self._reachable(start, stop) for start in starts))
        if not common:
            return stop
        return min(common, key=self.rank.__getitem__)

    def _reachable(self, start, stop):
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name in seen or name == stop:
                continue
            seen.add(name)
            todo.extend(n for n in self.graph[name].out_funcs if n != name)
        return seen

    def _join_of(self, node):
        if not node.matching_join:
            raise UnsupportedFlow(
                "Flow %s, step %s: this split has no matching join step."
                % (self.flow_name, node.name)
            )
        return node.matching_join


def _refuse_parallel(graph, flow_name):
    launchers = [node.name for node in graph if node.parallel_foreach]
    for node in graph:
        if node.parallel_step:
            raise UnsupportedFlow(
                "Flow %s, step %s: @parallel (launched by num_parallel in step %s) is not "
                "supported by metaflow-kestra: it needs gang-scheduled workers sharing a "
                "control task, which Kestra's ForEach does not provide. Use a foreach "
                "instead, or run this flow with another scheduler."
                % (flow_name, node.name, ", ".join(launchers) or "?")
            )


def _topological_order(graph, start):
    """Steps ordered so every transition goes forward (self-loops ignored).

    Iterative depth-first search: a flow may chain thousands of steps.
    """
    order, done, on_path = [], set(), set()
    stack = [(start, iter(graph[start].out_funcs))]
    on_path.add(start)
    while stack:
        name, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            on_path.discard(name)
            done.add(name)
            order.append(name)
        elif child != name and child not in done and child not in on_path:
            on_path.add(child)
            stack.append((child, iter(graph[child].out_funcs)))
    return order[::-1]


def _check_complete(graph, tree, flow_name):
    counts = Counter(steps_in(tree))
    duplicated = sorted(name for name, count in counts.items() if count > 1)
    missing = sorted({node.name for node in graph} - set(counts))
    if duplicated or missing:
        problems = []
        if missing:
            problems.append("steps %s are not reachable in the compiled structure" % ", ".join(missing))
        if duplicated:
            problems.append("steps %s would run in more than one place" % ", ".join(duplicated))
        raise UnsupportedFlow(
            "Flow %s cannot be compiled faithfully: %s. Please report this flow's shape."
            % (flow_name, "; ".join(problems))
        )

"""Metaflow's own graph checks before we compile, with its acyclicity check in linear time.

Metaflow's `check_for_acyclicity` follows every path from every step: quadratic
in a chain (3.5 s of a 5.4 s compile of a 900-step chain) and exponential in
flows with many splits. `python flow.py kestra ...` runs every other check of
Metaflow's linter as Metaflow does, and this one as a single depth-first
search that finds the same loops and says so with Metaflow's message.
"""

import contextlib


def run_checks(obj):
    """`obj.check(...)` as Metaflow's own commands call it (linter, then pylint), faster."""
    with _linear_acyclicity_check():
        obj.check(obj.graph, obj.flow, obj.environment, pylint=obj.pylint)


@contextlib.contextmanager
def _linear_acyclicity_check():
    """Metaflow's linter with `check_acyclic` in the place of its acyclicity check (same settings, same order)."""
    from metaflow import lint

    checks = getattr(lint.linter, "_checks", None)
    slow = getattr(lint, "check_for_acyclicity", None)
    if not isinstance(checks, list) or slow not in checks:
        yield  # another Metaflow: leave its linter alone
        return
    index = checks.index(slow)

    def fast(graph):
        check_acyclic(graph)

    fast.attrs = list(getattr(slow, "attrs", []))
    checks[index] = fast
    try:
        yield
    finally:
        checks[index] = slow


def check_acyclic(graph):
    """Raise Metaflow's LintWarn for a loop in the graph (a switch step naming itself is recursion, not a loop)."""
    from metaflow.lint import LintWarn

    state = {}  # name -> "open" while on the current path, "done" once every path from it is checked
    for root in graph:
        if root.name in state:
            continue
        path, stack = [root.name], [(root, _successors(root))]
        state[root.name] = "open"
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node.name] = "done"
            elif state.get(child) == "open":
                loop = path[path.index(child):] + [child]
                raise LintWarn("There is a loop in your flow: *%s*. Break the loop by fixing self.next() "
                               "transitions." % "->".join(loop), node.tail_next_lineno, node.source_file)
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((graph[child], _successors(graph[child])))


def _successors(node):
    return iter([name for name in node.out_funcs if not (node.type == "split-switch" and name == node.name)])

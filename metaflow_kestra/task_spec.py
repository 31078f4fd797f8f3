"""What each step's Kestra task must know to find its inputs, decided at compile time.

The compiler records, per step, its foreach depth and where its inputs come
from (`TaskSpec`); at run time `input_paths` turns that into Metaflow input
pathspecs from the task's foreach index path and a few facts read from the
run itself (`RunState`): which candidate parents finished, a foreach's
cardinality, a loop's last iteration. Nothing here is a template: both
halves are plain, tested Python.

Parents are grouped: a task takes one input per group, the group's member
that ran. A static join has one group per branch; a step after a switch has
one group with a member per case; a foreach join repeats its group for every
item of the foreach. Group members are in graph order, so when a case skips
straight to the convergence step the switch step itself is a member that
always ran: the last finished member is the input (as Argo chooses too).
"""

import json
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Optional, Tuple

from . import ids
from .pebble import inert_json
from .structure import ForEach, Loop, Parallel, Sequence, Step, Switch, start_step, steps_in


@dataclass(frozen=True)
class ParentRef:
    step: str
    depth: int  # the parent's foreach depth: its index path is ours cut to this length
    loop: bool = False  # a recursive step: the input is its last iteration


@dataclass(frozen=True)
class TaskSpec:
    step: str
    depth: int
    groups: Tuple[Tuple[ParentRef, ...], ...] = ()
    start: bool = False  # reads the run's parameters (written by `init`)
    foreach_join: Optional[str] = None  # the foreach step whose cardinality repeats the group
    split_index: bool = False  # a foreach body's first step: --split-index is our last index
    loop: bool = False  # a recursive step: its iterations run inside this task
    fans_out: bool = False  # a foreach step: reports the items of its foreach
    chooses: bool = False  # a switch step: reports the step it chose
    user_retries: int = 0  # Metaflow's --max-user-code-retries (@retry; @catch runs after them)
    cards: bool = False  # attach the step's cards to the Kestra task
    added_decorators: Tuple[str, ...] = ()  # `--with` specs the step command gets (decorators.added)

    def to_json(self):
        """Compact: fields at their default value are left out."""
        data = {key: value for key, value in asdict(self).items() if value != _DEFAULTS.get(key)}
        return inert_json(data)

    @classmethod
    def from_json(cls, text):
        """Fields this version does not know are ignored (the deployment's format guards meaning)."""
        data = {key: value for key, value in json.loads(text).items() if key in _FIELDS}
        data["groups"] = tuple(
            tuple(ParentRef(**{k: v for k, v in ref.items() if k in _REF_FIELDS}) for ref in group)
            for group in data.get("groups", ())
        )
        data["added_decorators"] = tuple(data.get("added_decorators", ()))
        return cls(**data)


_DEFAULTS = {f.name: f.default for f in fields(TaskSpec) if f.default is not MISSING}
_FIELDS = {f.name for f in fields(TaskSpec)}
_REF_FIELDS = {f.name for f in fields(ParentRef)}


def foreach_depths(tree, depth=0, depths=None):
    """{step: foreach depth} for every step in the structure tree."""
    depths = {} if depths is None else depths
    if isinstance(tree, Step):
        depths[tree.name] = depth
    elif isinstance(tree, Loop):
        depths[tree.step] = depth
    elif isinstance(tree, Sequence):
        for item in tree.items:
            foreach_depths(item, depth, depths)
    elif isinstance(tree, Parallel):
        for branch in tree.branches:
            foreach_depths(branch, depth, depths)
    elif isinstance(tree, ForEach):
        foreach_depths(tree.body, depth + 1, depths)
    elif isinstance(tree, Switch):
        for _, branch in tree.cases:
            foreach_depths(branch, depth, depths)
    return depths


def is_loop_step(node):
    return node.type == "split-switch" and node.name in node.switch_cases.values()


def task_specs(graph, tree):
    """{step: TaskSpec} for a graph and its structure tree."""
    depths = foreach_depths(tree)
    rank = {name: index for index, name in enumerate(steps_in(tree))}
    return {node.name: _spec(graph, node, depths, rank) for node in graph}


def _spec(graph, node, depths, rank):
    def ref(name, depth=None):
        return ParentRef(name, depths[name] if depth is None else depth, is_loop_step(graph[name]))

    parents = sorted((name for name in node.in_funcs if name != node.name), key=rank.__getitem__)
    common = dict(
        step=node.name,
        depth=depths[node.name],
        split_index=any(graph[name].type == "foreach" for name in parents),
        loop=is_loop_step(node),
        fans_out=node.type == "foreach",
        chooses=node.type == "split-switch",
    )
    if node.name == start_step(graph):
        return TaskSpec(start=True, **common)
    if node.type == "join" and graph[node.split_parents[-1]].type == "foreach":
        body_depth = depths[node.name] + 1
        return TaskSpec(
            groups=tuple((ref(name, body_depth),) for name in parents),
            foreach_join=node.split_parents[-1],
            **common,
        )
    if node.type == "join":
        return TaskSpec(groups=tuple((ref(name),) for name in parents), **common)
    return TaskSpec(groups=(tuple(ref(name) for name in parents),), **common)


class RunState:
    """Facts about a run that only the datastore knows (implemented by `run_state.DatastoreRunState`)."""

    def finished(self, pathspecs):
        """The subset of `pathspecs` whose task finished successfully."""
        raise NotImplementedError

    def num_splits(self, pathspec):
        """The cardinality of the foreach that task `pathspec` started."""
        raise NotImplementedError

    def last_iteration(self, run_id, step, index_path):
        """The highest finished iteration of recursive `step` at `index_path`."""
        raise NotImplementedError

    def next_attempt(self, pathspec):
        """The Metaflow attempt a new start of task `pathspec` runs (0 if it never started)."""
        raise NotImplementedError

    def task(self, pathspec):
        """The finished task's datastore (its artifacts: a switch's choice, a foreach's items)."""
        raise NotImplementedError

    def log_store(self, run_id, step, task_id, attempt):
        """Where one attempt's logs are saved: a Metaflow task datastore open for writing."""
        raise NotImplementedError


class MissingInput(Exception):
    """A parent task a step needs has not finished (or more than one candidate did)."""


def input_paths(spec, run_id, index_path, state):
    """Metaflow input pathspecs of the task of `spec` at `index_path`."""
    index_path = tuple(index_path)
    if len(index_path) != spec.depth:
        raise ValueError(
            "step %s runs at foreach depth %d, got index path %r" % (spec.step, spec.depth, index_path)
        )
    if spec.start:
        return [ids.parameters_pathspec(run_id)]
    if spec.foreach_join:
        foreach_task = ids.pathspec(run_id, spec.foreach_join, ids.task_id_for(spec.foreach_join, index_path))
        paths = []
        for i in range(state.num_splits(foreach_task)):
            paths.extend(_resolve_groups(spec, run_id, index_path + (i,), state))
        _check_all_finished(spec, run_id, paths, state)
        return paths
    return _resolve_groups(spec, run_id, index_path, state)


def iteration_input_paths(spec, run_id, index_path, iteration, state):
    """Inputs of iteration `iteration` (from 1) of a recursive step: the previous one's output."""
    if iteration == 1:
        return input_paths(spec, run_id, index_path, state)
    previous = ids.task_id_for(spec.step, index_path, iteration - 1)
    return [ids.pathspec(run_id, spec.step, previous)]


def _resolve_groups(spec, run_id, index_path, state):
    paths = []
    for group in spec.groups:
        candidates = [_candidate(ref, run_id, index_path, state) for ref in group]
        candidates = [path for path in candidates if path]
        if len(group) > 1 or any(ref.loop for ref in group):
            ran = state.finished(candidates)
            candidates = [path for path in candidates if path in ran]
        if not candidates:
            raise MissingInput(
                "Step %s found no finished task among its parents %s in run %s. "
                "Did an upstream task fail?"
                % (spec.step, ", ".join(ref.step for ref in group), run_id)
            )
        paths.append(candidates[-1])
    return paths


def _check_all_finished(spec, run_id, paths, state):
    """A foreach join runs only once every item finished: an engine may end the foreach early
    (Kestra 2.0.0 can record a Loop as successful after one of its items failed)."""
    ran = state.finished(paths)
    missing = [path.split("/")[-1] for path in paths if path not in ran]
    if missing:
        raise MissingInput(
            "Step %s joins a foreach, but task%s %s of run %s did not finish successfully: not joining "
            "partial results. Restart the run, or resume it with `python flow.py kestra resume "
            "--clone-run-id %s`." % (spec.step, "s" if len(missing) > 1 else "", ", ".join(missing[:5])
                                     + (" and %d more" % (len(missing) - 5) if len(missing) > 5 else ""),
                                     run_id, run_id))


def _candidate(ref, run_id, index_path, state):
    path = index_path[: ref.depth]
    if ref.loop:
        iteration = state.last_iteration(run_id, ref.step, path)
        if iteration is None:
            return None
        return ids.pathspec(run_id, ref.step, ids.task_id_for(ref.step, path, iteration))
    return ids.pathspec(run_id, ref.step, ids.task_id_for(ref.step, path))

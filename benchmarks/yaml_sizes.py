"""Bytes of generated YAML per Metaflow step for the sample shapes, now or at an earlier commit.

    python benchmarks/yaml_sizes.py [--at REV] linear_flow split_flow ...   (prints JSON)

`benchmarks/run.py` calls `compare` for a commit against the working tree.
At a commit, it runs that commit's compiler from a temporary git worktree, in an
interpreter without this tree's editable install (else Metaflow finds two
`metaflow_extensions.kestra` packages and refuses to start).
"""

import argparse
import json
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ["linear_flow", "split_flow", "foreach_flow", "nested_foreach_flow", "split_in_foreach_flow",
          "foreach_in_split_flow", "switch_flow", "switch_skip_flow", "switch_in_foreach_flow",
          "recursive_flow"]


def sizes(names):
    """{shape: (YAML bytes, steps)}, compiled by this tree's compiler (no code package)."""
    from metaflow_kestra import yaml_out
    from metaflow_kestra.compiler import CompileOptions, compile_flow
    from metaflow_kestra.deployment import Deployment
    from metaflow_kestra.parameters import parameter_kinds
    from tests.flow_loading import load_flow, load_graph

    out = {}
    for name in names:
        flow, graph = load_flow(name), load_graph(name)
        deployment = Deployment(flow_name=type(flow).__name__, flow_file="/nowhere/flow.py",
                                parameters=parameter_kinds(flow))
        kestra = compile_flow(flow, graph, deployment, CompileOptions())
        out[name] = (len(yaml_out.dump(kestra.to_dict()).encode()), len(list(graph)))
    return out


def sizes_at(revision, names):
    """`sizes(names)` as the compiler of commit `revision` gives them."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), revision], check=True)
        try:
            path = "%s:%s" % (tree, sysconfig.get_paths()["purelib"])
            done = subprocess.run([sys.executable, "-S", str(Path(__file__).resolve()), *names], cwd=tree,
                                  env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin", "HOME": tmp},
                                  capture_output=True, text=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        if done.returncode:
            raise RuntimeError("Compiling at %s failed:\n%s" % (revision, done.stderr[-2000:]))
        return {name: tuple(value) for name, value in json.loads(done.stdout).items()}


def compare(before, names=SHAPES):
    """{before_commit, shapes: [{shape, steps, before_bytes, now_bytes}]}: commit `before` against this tree."""
    now, then = sizes(names), sizes_at(before, names)
    return {"before_commit": before,
            "shapes": [{"shape": name, "steps": now[name][1], "before_bytes": then[name][0], "now_bytes": now[name][0]}
                       for name in names]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", default=None, help="a commit: measure its compiler instead of this tree's")
    parser.add_argument("names", nargs="*", default=SHAPES)
    args = parser.parse_args()
    if args.at:
        print(json.dumps(sizes_at(args.at, args.names)))
    else:
        sys.path.insert(0, str(Path.cwd()))
        print(json.dumps(sizes(args.names)))


if __name__ == "__main__":
    main()

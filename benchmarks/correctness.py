"""Whether a run computed what the local run of the same flow computed: every step's tasks'
artifacts (those a user reads: no leading underscore), compared by their reprs, as
`tests/flow_runs.py` compares an e2e run with a local one.

The reprs are compared by digest: a 10,000-way foreach has 10,000 tasks each holding the
10,000-item list, and their reprs in full would be half a gigabyte.
"""

import json
import subprocess
import sys
from collections import Counter

# Artifacts that legitimately differ from run to run, left out of the comparison. The benchmark
# flows (benchmarks/flows.py) store none: no run id, time or random value, only figures derived
# from their items and the `seed` Parameter (and Metaflow's own `name`, the flow's name).
RUN_DEPENDENT = frozenset()

def run_artifacts(workspace, flow_name, run_id, flow_file):
    """{successful, steps: {step: sorted [[artifact, repr digest], ...] per task}} of a run."""
    from tests.flow_runs import DUMP_ARTIFACTS

    done = subprocess.run([sys.executable, "-c", DUMP_ARTIFACTS, "%s/%s" % (flow_name, run_id), str(flow_file),
                           "digest"],
                          env=workspace.env, cwd=workspace.root, capture_output=True, text=True)
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or ["exit %d" % done.returncode]
        raise RuntimeError("its artifacts could not be read: %s" % lines[-1].strip()[:200])
    return json.loads(done.stdout)


def _without(tasks, ignore):
    return sorted(sorted([name, digest] for name, digest in task if name not in ignore) for task in tasks)


def difference(reference, candidate, ignore=RUN_DEPENDENT):
    """None when `candidate`'s artifacts equal `reference`'s (both from `run_artifacts`), else why
    not, in one line that names the first step (and artifacts) that differ."""
    if candidate.get("successful") != reference.get("successful"):
        return "the Metaflow run is %ssuccessful, the local run %s" % (
            "" if candidate.get("successful") else "not ", "is" if reference.get("successful") else "is not")
    ours, theirs = candidate.get("steps") or {}, reference.get("steps") or {}
    if set(ours) != set(theirs):
        missing, extra = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
        return "steps differ from the local run's:%s%s" % (
            " missing %s" % ", ".join(missing) if missing else "", " extra %s" % ", ".join(extra) if extra else "")
    differing = [step for step in sorted(theirs) if _without(ours[step], ignore) != _without(theirs[step], ignore)]
    if not differing:
        return None
    step = differing[0]
    if len(ours[step]) != len(theirs[step]):
        why = "%d tasks, the local run %d" % (len(ours[step]), len(theirs[step]))
    else:
        pairs = [Counter(tuple(pair) for task in _without(tasks, ignore) for pair in task)
                 for tasks in (ours[step], theirs[step])]
        names = sorted({name for name, _ in (pairs[0] - pairs[1]) + (pairs[1] - pairs[0])})
        why = "artifacts %s differ" % ", ".join(names) if names else "artifacts spread differently over its tasks"
    more = " (and %d more steps)" % (len(differing) - 1) if len(differing) > 1 else ""
    return "not the local run's artifacts: step %s: %s%s" % (step, why, more)

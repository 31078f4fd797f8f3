"""A foreach join with 10,000 parents: its input paths reach Metaflow in a file, never in an
argument or environment variable the OS can refuse (Linux caps one at 128 KiB)."""

from metaflow_kestra.deployment import Deployment
from metaflow_kestra.step_runner import StepRunner
from metaflow_kestra.task_spec import input_paths
from tests.unit.test_task_spec import RUN, FakeRun, specs

PARENTS = 10000


class RecordingRunner(StepRunner):
    """Records the command line and environment, and what the input-paths file held, instead of running."""

    def _call(self, args, env):
        self.recorded = (list(args), dict(env), self._paths_file(args))

    def _run_here(self, args):
        self.recorded = (list(args), dict(self.environ), self._paths_file(args))

    @staticmethod
    def _paths_file(args):
        with open(args[args.index("--input-paths-filename") + 1]) as handle:
            return handle.read()


def test_a_10000_parent_join_passes_its_inputs_in_a_file():
    spec = specs("foreach_flow")["join"]
    items = [RUN + "/square/square-%d" % i for i in range(PARENTS)]  # all finished: a join checks
    paths = input_paths(spec, RUN, (), FakeRun(finished=items, splits={RUN + "/start/start": PARENTS}))
    assert len(paths) == PARENTS and paths[-1] == RUN + "/square/square-%d" % (PARENTS - 1)
    runner = RecordingRunner(Deployment(flow_name="ForeachFlow", flow_file="/f.py"), {"PATH": "/bin"})
    for in_process in (True, False):
        runner.step("join", RUN, "join", paths, in_process=in_process)
        args, env, listed = runner.recorded
        assert listed.split(",") == paths
        assert sum(len(arg) + 1 for arg in args) < 4096
        assert max(len(value) for value in env.values()) < 4096

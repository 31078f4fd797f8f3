import os

from metaflow import FlowSpec, step


class WarmFlow(FlowSpec):
    """Each step records how its process was started, so a test can tell warm starts apart."""

    def record(self):
        self.started_warm = bool(os.environ.get("METAFLOW_KESTRA_WARM_SERVER"))
        self.pid = os.getpid()
        self.seen_step = os.environ.get("METAFLOW_KESTRA_STEP", "")
        self.working_directory = os.getcwd()
        # The variables this process started with (its environment block, which every process
        # can read of any other of its user's): a warm task must not find another task's there.
        with open("/proc/self/environ", "rb") as handle:
            names = [entry.split(b"=", 1)[0].decode() for entry in handle.read().split(b"\0") if entry]
        self.started_with_task_variables = sorted(
            name for name in names if name.startswith("METAFLOW_KESTRA_") and name != "METAFLOW_KESTRA_WARM_IDLE")

    @step
    def start(self):
        self.record()
        self.next(self.one)

    @step
    def one(self):
        self.record()
        self.next(self.two)

    @step
    def two(self):
        self.record()
        self.next(self.three)

    @step
    def three(self):
        self.record()
        self.next(self.end)

    @step
    def end(self):
        self.record()


if __name__ == "__main__":
    WarmFlow()

import os
import time

from metaflow import FlowSpec, Parameter, step


class SlowForeachFlow(FlowSpec):
    """Foreach items that take ten minutes: terminated while they run, and long enough that an item
    the kill missed is still running when the test looks.

    With --pid_dir, each item writes the pid of the process that runs it there, so a test can
    see that a kill stopped the step itself, not only Kestra's record of it.
    """

    pid_dir = Parameter("pid_dir", default="")

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if self.pid_dir:
            path = os.path.join(self.pid_dir, "item-%s.pid" % self.input)
            with open(path + ".part", "w") as handle:
                handle.write(str(os.getpid()))
            os.rename(path + ".part", path)  # whole, when the test sees it
        time.sleep(600)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlowForeachFlow()

import os
import time

from metaflow import FlowSpec, Parameter, step


def wait_for(path, seconds=300):
    """Wait until the file `path` exists (no path: no wait)."""
    deadline = time.time() + seconds
    while path and not os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError("%s was never written" % path)
        time.sleep(0.2)


class LateFailureFlow(FlowSpec):
    """One foreach item fails at once while the other is still running, then succeeds.

    With `release` given, the race is certain, not a matter of timing: the item that fails does so
    once the other runs, and that one waits for the file `release` names (the test writes it once
    Kestra has recorded the failure)."""

    release = Parameter("release", default="", help="a file to wait for before the succeeding item ends")

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if self.input == 2:
            wait_for(self.release and self.release + ".running")  # fail only once the other item runs
            raise RuntimeError("this item fails on purpose")
        if self.release:
            open(self.release + ".running", "w").close()
        wait_for(self.release)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.seen = sorted(i.input for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LateFailureFlow()

import time

from metaflow import FlowSpec, step


class LateFailureFlow(FlowSpec):
    """One foreach item fails at once while the other is still running, then succeeds."""

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if self.input == 2:
            raise RuntimeError("this item fails on purpose")
        time.sleep(4)
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

import time

from metaflow import FlowSpec, step


class SlowForeachFlow(FlowSpec):
    """Foreach items that take a minute: long enough to be terminated while they run."""

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        time.sleep(60)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SlowForeachFlow()

import time

from metaflow import FlowSpec, current, step


class FlakyFlow(FlowSpec):
    """The middle step fails on its first attempt only.

    The failing item fails last: Kestra 2.0.0 records a Loop as successful when an item
    succeeds after another failed (see late_failure_flow.py).
    """

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.flaky, foreach="items")

    @step
    def flaky(self):
        if current.retry_count == 0 and self.input == 2:
            time.sleep(3)
            raise RuntimeError("first attempt fails on purpose")
        self.attempt_seen = current.retry_count
        self.next(self.join)

    @step
    def join(self, inputs):
        self.attempts = sorted(i.attempt_seen for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FlakyFlow()

import time

from metaflow import FlowSpec, step


class ConcurrencyFlow(FlowSpec):
    """Six foreach items of three seconds each, recording when they ran: how many ran at once
    shows whether --max-workers held on the engine."""

    @step
    def start(self):
        self.items = list(range(6))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.began = time.time()
        time.sleep(3)
        self.ended = time.time()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.windows = sorted((i.began, i.ended) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConcurrencyFlow()

from metaflow import FlowSpec, step


class FailingForeachFlow(FlowSpec):
    """A foreach whose third item fails: the run must fail, and say which item and why."""

    @step
    def start(self):
        self.items = [0, 1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if self.input == 2:
            raise ValueError("item 2 fails on purpose")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FailingForeachFlow()

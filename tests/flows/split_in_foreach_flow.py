from metaflow import FlowSpec, step


class SplitInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [10, 20]
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.base = self.input
        self.next(self.plus, self.minus)

    @step
    def plus(self):
        self.v = self.base + 1
        self.next(self.merge)

    @step
    def minus(self):
        self.v = self.base - 1
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.pair = sorted(i.v for i in inputs)
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.pairs = sorted(i.pair for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SplitInForeachFlow()

from metaflow import FlowSpec, step


class ForeachInSplitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.fanout, self.single)

    @step
    def fanout(self):
        self.items = ["x", "y", "z"]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.out = self.input.upper()
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.result = "".join(i.out for i in inputs)
        self.next(self.join)

    @step
    def single(self):
        self.result = "solo"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = sorted(i.result for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachInSplitFlow()

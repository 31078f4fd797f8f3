"""A start step that splits, and an end step after the join, both named by the flow."""
from metaflow import FlowSpec, step


class NamedEndsSplitFlow(FlowSpec):
    @step(start=True)
    def fork(self):
        self.base = 10
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = self.base + 1
        self.next(self.merge)

    @step
    def right(self):
        self.side = self.base + 2
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.sides = sorted(i.side for i in inputs)
        self.next(self.report)

    @step(end=True)
    def report(self):
        self.text = ",".join(str(side) for side in self.sides)


if __name__ == "__main__":
    NamedEndsSplitFlow()

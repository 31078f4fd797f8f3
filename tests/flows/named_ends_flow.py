"""Start and end steps named by the flow (`@step(start=True)`, `@step(end=True)`), linear."""
from metaflow import FlowSpec, Parameter, step


class NamedEndsFlow(FlowSpec):
    size = Parameter("size", default=3)

    @step(start=True)
    def begin(self):
        self.numbers = list(range(self.size))
        self.next(self.middle)

    @step
    def middle(self):
        self.total = sum(self.numbers)
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        self.summary = "total=%d" % self.total


if __name__ == "__main__":
    NamedEndsFlow()

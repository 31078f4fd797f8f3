"""A start step that is a switch, whose cases converge on the end step, named by the flow."""
from metaflow import FlowSpec, Parameter, step


class NamedEndsSwitchFlow(FlowSpec):
    level = Parameter("level", default="high")

    @step(start=True)
    def choose(self):
        self.choice = self.level
        self.next({"high": self.high, "low": self.low}, condition="choice")

    @step
    def high(self):
        self.path = "high"
        self.next(self.wrap_up)

    @step
    def low(self):
        self.path = "low"
        self.next(self.wrap_up)

    @step(end=True)
    def wrap_up(self):
        self.outcome = "took " + self.path


if __name__ == "__main__":
    NamedEndsSwitchFlow()

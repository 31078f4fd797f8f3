from metaflow import FlowSpec, Parameter, step


class SwitchFlow(FlowSpec):
    level = Parameter("level", default="high")

    @step
    def start(self):
        self.choice = self.level
        self.next({"high": self.high, "low": self.low}, condition="choice")

    @step
    def high(self):
        self.path = "high"
        self.next(self.after)

    @step
    def low(self):
        self.path = "low"
        self.next(self.after)

    @step
    def after(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchFlow()

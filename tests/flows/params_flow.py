from metaflow import FlowSpec, JSONType, Parameter, step


class ParamsFlow(FlowSpec):
    """Parameters of every Kestra input type; defaults that look like templates."""

    text = Parameter("text", default="{{ execution.id }} {% raw %}", help="Any string at all")
    count = Parameter("count", default=3, help="An integer")
    ratio = Parameter("ratio", default=0.5)
    flag = Parameter("flag", default=False, type=bool)
    config = Parameter("config", default='{"k": [1, 2]}', type=JSONType)
    needed = Parameter("needed", required=True, help="Required, no default")

    @step
    def start(self):
        self.seen = {
            "text": self.text, "count": self.count, "ratio": self.ratio,
            "flag": self.flag, "config": self.config, "needed": self.needed,
        }
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParamsFlow()

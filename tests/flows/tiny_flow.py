from metaflow import FlowSpec, Parameter, step


class TinyFlow(FlowSpec):
    """Two steps and a Parameter: for many executions in a row, and for values of any kind."""

    value = Parameter("value", default="", help="Any string; the run stores it as given")

    @step
    def start(self):
        self.seen = self.value
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TinyFlow()

from metaflow import FlowSpec, step


class LoopingFlow(FlowSpec):
    """Not a valid flow: b goes back to a (Metaflow's linter refuses the loop)."""

    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.a)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LoopingFlow()

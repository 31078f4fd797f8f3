from metaflow import FlowSpec, step


class FailingFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.boom)

    @step
    def boom(self):
        raise RuntimeError("this step fails on purpose")
        self.next(self.end)  # never reached; keeps the graph valid

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FailingFlow()

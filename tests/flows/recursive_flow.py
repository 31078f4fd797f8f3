from metaflow import FlowSpec, step


class RecursiveFlow(FlowSpec):
    @step
    def start(self):
        self.count = 0
        self.next(self.loop)

    @step
    def loop(self):
        self.count += 1
        self.decision = "again" if self.count < 3 else "done"
        self.next({"again": self.loop, "done": self.end}, condition="decision")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RecursiveFlow()

from metaflow import FlowSpec, step


class DeadEndFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle(self):
        pass  # forgot self.next

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DeadEndFlow()

"""A start step that fans out over a foreach, and an end step after the join, named by the flow."""
from metaflow import FlowSpec, step


class NamedEndsForeachFlow(FlowSpec):
    @step(start=True)
    def fan_out(self):
        self.items = ["a", "b", "c"]
        self.next(self.shout, foreach="items")

    @step
    def shout(self):
        self.word = self.input.upper()
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.words = sorted(i.word for i in inputs)
        self.next(self.done)

    @step(end=True)
    def done(self):
        self.text = "".join(self.words)


if __name__ == "__main__":
    NamedEndsForeachFlow()

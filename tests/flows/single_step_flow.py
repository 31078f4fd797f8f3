"""One step that is both the start and the end of the flow."""
from metaflow import FlowSpec, Parameter, step


class SingleStepFlow(FlowSpec):
    greeting = Parameter("greeting", default="hello")

    @step(start=True, end=True)
    def only(self):
        self.message = "%s from the only step" % self.greeting


if __name__ == "__main__":
    SingleStepFlow()

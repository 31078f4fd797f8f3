import os
import uuid

from metaflow import FlowSpec, step


class ResumableForeachFlow(FlowSpec):
    """Item 1 of the foreach fails until `resumable-foreach-fixed` exists beside the datastore."""

    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.token = uuid.uuid4().hex  # differs on every execution: shows what was cloned
        root = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", ".")
        if self.input == 1 and not os.path.exists(os.path.join(root, "resumable-foreach-fixed")):
            raise RuntimeError("item 1 not fixed yet")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.tokens = sorted(i.token for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResumableForeachFlow()

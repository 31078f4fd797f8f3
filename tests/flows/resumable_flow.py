import os
import uuid

from metaflow import FlowSpec, step


class ResumableFlow(FlowSpec):
    """Fails at its third step until `resumable-flow-fixed` exists beside the datastore.

    (The datastore root reaches every task, locally and on Kestra workers alike.)
    """

    @step
    def start(self):
        self.token = uuid.uuid4().hex  # differs on every execution: shows what was cloned
        self.next(self.prepare)

    @step
    def prepare(self):
        self.prepared = uuid.uuid4().hex
        self.next(self.check)

    @step
    def check(self):
        root = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", ".")
        if not os.path.exists(os.path.join(root, "resumable-flow-fixed")):
            raise RuntimeError("input not fixed yet")
        self.checked = True
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResumableFlow()

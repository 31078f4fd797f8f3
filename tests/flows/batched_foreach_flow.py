import os

from metaflow import FlowSpec, current, step


class BatchedForeachFlow(FlowSpec):
    """Ten items: with `--foreach subflows --foreach-batch 3` four child executions run them.
    Item 4 fails until `batched-foreach-fixed` exists beside the datastore."""

    @step
    def start(self):
        self.items = list(range(10))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        root = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", ".")
        if self.input == 4 and not os.path.exists(os.path.join(root, "batched-foreach-fixed")):
            raise RuntimeError("item 4 fails on purpose until fixed")
        self.square = self.input * self.input
        self.task_id = current.task_id
        self.next(self.join)

    @step
    def join(self, inputs):
        self.squares = [i.square for i in inputs]
        self.task_ids = sorted(i.task_id for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BatchedForeachFlow()

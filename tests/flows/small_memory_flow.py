import os

from metaflow import FlowSpec, resources, step


class SmallMemoryFlow(FlowSpec):
    """A step in a 512 MB container: Metaflow's 64 S3 workers do not fit in it (issue 29)."""

    @resources(cpu=1, memory=512)
    @step
    def start(self):
        self.s3_workers = os.environ.get("METAFLOW_S3_WORKER_COUNT")
        self.items = list(range(3))
        self.next(self.end)

    @resources(memory=512)
    @step
    def end(self):
        self.total = sum(self.items)


if __name__ == "__main__":
    SmallMemoryFlow()

import time

from metaflow import FlowSpec, step, timeout


class TimeoutFlow(FlowSpec):
    @timeout(seconds=3)
    @step
    def start(self):
        self.before_timeout = "written"
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TimeoutFlow()

import time

from metaflow import FlowSpec, Parameter, step


class SlowFlow(FlowSpec):
    """Sleeps in its middle step, so there is time to watch or terminate it."""

    seconds = Parameter("seconds", default=120)

    @step
    def start(self):
        self.next(self.wait)

    @step
    def wait(self):
        time.sleep(self.seconds)
        self.next(self.end)

    @step
    def end(self):
        self.done = True


if __name__ == "__main__":
    SlowFlow()

"""Every step prints to stdout and stderr: Metaflow's logs of each task must hold what it printed."""
import os
import sys

from metaflow import FlowSpec, current, retry, step


class PrintingFlow(FlowSpec):
    def record(self):
        # Set by the Kestra task runtime's warm server: the test checks both kinds of start.
        self.started_warm = bool(os.environ.get("METAFLOW_KESTRA_WARM_SERVER"))

    @step
    def start(self):
        self.record()
        print("start says hello on stdout")
        print("start warns on stderr", file=sys.stderr)
        self.items = ["a", "b", "c"]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.record()
        print("item %s on stdout" % self.input)
        print("item %s on stderr" % self.input, file=sys.stderr)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.record()
        print("joined %d items" % len(list(inputs)))
        self.next(self.wobbly)

    @retry(times=1, minutes_between_retries=0)
    @step
    def wobbly(self):
        print("attempt %d starts" % current.retry_count)
        if current.retry_count == 0:
            raise RuntimeError("the first attempt fails on purpose")
        self.next(self.end)

    @step
    def end(self):
        self.record()
        print("multi\nline\noutput")
        sys.stdout.write("no newline at the end")


if __name__ == "__main__":
    PrintingFlow()

"""No step decorators at all: `--with` gives them to every step, at run or deploy time.

Run with `--with retry:times=1,minutes_between_retries=0 --with catch:var=failure --with card
--with timeout:seconds=5 --with environment:vars={"GREETING": "hi there"}`.
"""
import os
import time

from metaflow import FlowSpec, current, step


class UndecoratedFlow(FlowSpec):
    @step
    def start(self):
        self.greeting = os.environ.get("GREETING", "unset")
        self.next(self.flaky)

    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("the first attempt fails on purpose")
        self.attempt = current.retry_count
        self.next(self.doomed)

    @step
    def doomed(self):
        self.before_failure = "written"
        if self.greeting:
            raise RuntimeError("every attempt fails on purpose")
        self.next(self.slow)

    @step
    def slow(self):
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        self.finished = True


if __name__ == "__main__":
    UndecoratedFlow()

import os
import time

from metaflow import FlowSpec, Parameter, current, step


class KillableFlow(FlowSpec):
    """Its middle step writes its process id and waits, so a test can SIGKILL it mid-step.

    Once the test has written `killed` in the folder, the step finishes at once.
    """

    folder = Parameter("folder", required=True, help="Where the step writes its pid")

    @step
    def start(self):
        self.started_attempt = current.retry_count
        self.next(self.work)

    @step
    def work(self):
        if not os.path.exists(os.path.join(self.folder, "killed")):
            with open(os.path.join(self.folder, "pid.tmp"), "w") as handle:
                handle.write(str(os.getpid()))
            os.rename(os.path.join(self.folder, "pid.tmp"), os.path.join(self.folder, "pid"))
            time.sleep(300)
        self.attempt = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    KillableFlow()

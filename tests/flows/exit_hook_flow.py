"""@exit_hook: one function on success, one on error; each records the run it saw beside the datastore."""
import json
import os
import time

from metaflow import FlowSpec, Parameter, exit_hook, step


def _record(hook, run):
    root = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", ".")
    with open(os.path.join(root, "exit-hooks.jsonl"), "a") as handle:
        handle.write(json.dumps({"hook": hook, "run": run.pathspec if run else None,
                                 "successful": run.successful if run else None}) + "\n")


def celebrate(run=None):
    _record("celebrate", run)


def raise_the_alarm(run=None):
    time.sleep(2)  # a hook that takes a while: `run --wait` must still wait for it
    _record("raise_the_alarm", run)


@exit_hook(on_success=[celebrate], on_error=[raise_the_alarm])
class ExitHookFlow(FlowSpec):
    fail = Parameter("fail", type=bool, default=False)

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        if self.fail and self.input == 2:
            raise RuntimeError("fails on purpose")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExitHookFlow()

"""A Parameter and an IncludeFile whose defaults METAFLOW_RUN_<NAME> can replace, as for a local `run`."""
from metaflow import FlowSpec, IncludeFile, Parameter, step


class IncludeFileFlow(FlowSpec):
    alpha = Parameter("alpha", default=1, type=int)
    notes = IncludeFile("notes", default="declared-notes.txt")

    @step
    def start(self):
        self.seen = {"alpha": self.alpha, "notes": self.notes}
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    IncludeFileFlow()

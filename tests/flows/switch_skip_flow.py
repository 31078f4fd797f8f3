from metaflow import FlowSpec, Parameter, step


class SwitchSkipFlow(FlowSpec):
    """A switch whose values are not step names, two of which share a step, and
    one that skips straight to where the cases converge."""

    mode = Parameter("mode", default="fast")

    @step
    def start(self):
        self.route = self.mode
        self.next(
            {"fast": self.after, "slow": self.extra, "careful": self.extra},
            condition="route",
        )

    @step
    def extra(self):
        self.extra_done = True
        self.next(self.after)

    @step
    def after(self):
        self.seen_extra = getattr(self, "extra_done", False)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchSkipFlow()

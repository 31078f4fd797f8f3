from metaflow import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="LinearFlow")
class DownstreamFlow(FlowSpec):
    @step
    def start(self):
        run = current.trigger.run if current.trigger else None
        self.upstream = run.pathspec if run else None
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DownstreamFlow()

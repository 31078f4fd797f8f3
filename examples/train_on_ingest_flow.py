"""Event-triggered pair, second half: runs after IngestFlow succeeds and reads its result."""

from metaflow import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="IngestFlow")
class TrainOnIngestFlow(FlowSpec):
    @step
    def start(self):
        upstream = current.trigger.run if current.trigger else None
        self.rows = upstream.data.rows if upstream else 0
        self.next(self.end)

    @step
    def end(self):
        print("trained on %d rows" % self.rows)


if __name__ == "__main__":
    TrainOnIngestFlow()

"""Event-triggered pair, first half: runs when the event `data.arrived` is sent.

    python examples/ingest_flow.py kestra create
    python examples/train_on_ingest_flow.py kestra create
    python examples/ingest_flow.py kestra send-event data.arrived --payload '{"path": "s3://bucket/day=1"}'

The event's `path` field becomes the `source` parameter; when this flow
succeeds, TrainOnIngestFlow starts (see that file).
"""

from metaflow import FlowSpec, Parameter, step, trigger


@trigger(event={"name": "data.arrived", "parameters": {"source": "path"}})
class IngestFlow(FlowSpec):
    source = Parameter("source", default="none", help="Where the new data is")

    @step
    def start(self):
        self.rows = len(self.source) * 10  # stands for reading the data
        self.next(self.end)

    @step
    def end(self):
        print("ingested %d rows from %s" % (self.rows, self.source))


if __name__ == "__main__":
    IngestFlow()

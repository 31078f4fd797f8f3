from metaflow import FlowSpec, Parameter, step, trigger


@trigger(events=[{"name": "data.ready", "parameters": {"table": "table_name"}}, "model.retrain"])
class EventFlow(FlowSpec):
    table = Parameter("table", default="none")

    @step
    def start(self):
        self.seen_table = self.table
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EventFlow()

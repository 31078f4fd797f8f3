from metaflow import FlowSpec, Parameter, current, step, trigger


def seen_trigger():
    """What current.trigger says in this step: [(name, has an id, timestamp type, type)], or None."""
    if not current.get("trigger"):
        return None
    return [(event.name, event.id is not None, type(event.timestamp).__name__, event.type)
            for event in current.trigger.events]


@trigger(events=[{"name": "data.ready", "parameters": {"table": "table_name"}}, "model.retrain"])
class EventFlow(FlowSpec):
    """Starts once both events have arrived; data.ready's table_name is the table parameter."""

    table = Parameter("table", default="none")

    @step
    def start(self):
        self.seen_table = self.table
        self.start_trigger = seen_trigger()
        self.next(self.end)

    @step
    def end(self):
        self.end_trigger = seen_trigger()


if __name__ == "__main__":
    EventFlow()

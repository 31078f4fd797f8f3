from metaflow import FlowSpec, Parameter, current, step, trigger


def seen_trigger():
    """What current.trigger says in this step: [(name, has an id, timestamp type, type)], or None."""
    if not current.get("trigger"):
        return None
    return [(event.name, event.id is not None, type(event.timestamp).__name__, event.type)
            for event in current.trigger.events]


@trigger(event={"name": "data.ready", "parameters": {"table": "table_name"}})
class OneEventFlow(FlowSpec):
    """Starts on one event, its payload's table_name the table parameter."""

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
    OneEventFlow()

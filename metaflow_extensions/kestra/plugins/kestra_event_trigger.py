"""`current.trigger` for a run an event started: the step decorator the runtime adds with `--with`.

What Argo's internal step decorator does with its event payload variables (read at Metaflow
2.19.39, `argo_workflows_decorator.py`): every step sees `current.trigger` (the events' names, ids,
timestamps), and the start step records them as the task's `execution-triggers` metadata. The
events come hex-encoded in the decorator's one attribute (`started_by.event_trigger_options`
encodes them), so no payload text is parsed as an option.
"""

import json

from metaflow.decorators import StepDecorator


def decode_events(value):
    return json.loads(bytes.fromhex(value[1:]).decode("utf-8")) if value else []


class KestraEventTriggerDecorator(StepDecorator):
    name = "kestra_event_trigger"
    defaults = {"events": ""}

    def task_pre_step(self, step_name, task_datastore, metadata, run_id, task_id, flow, graph, retry_count,
                      max_user_code_retries, ubf_context, inputs):
        from metaflow import current
        from metaflow.events import Trigger
        from metaflow.metadata_provider import MetaDatum

        events = decode_events(self.attributes["events"])
        if not events:
            return
        current._update_env({"trigger": Trigger([dict(event) for event in events])})
        if step_name == graph.start_step:
            metadata.register_metadata(run_id, step_name, task_id, [MetaDatum(
                field="execution-triggers", value=json.dumps(events), type="execution-triggers",
                tags=["attempt_id:%d" % retry_count])])

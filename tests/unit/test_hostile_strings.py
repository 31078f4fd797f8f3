"""Property: any user string survives YAML serialization and Kestra's template rendering exactly."""

import json

from hypothesis import given, settings, strategies as st

from metaflow_kestra import kestra_flow as k
from metaflow_kestra import yaml_out
from metaflow_kestra.pebble import has_template_syntax, inert_json, literal
from tests.standin_engine import StandinEngine

# Text biased towards what breaks templates, YAML and shells.
PIECES = st.sampled_from(["{{", "}}", "{%", "%}", "{#", "#}", "{% endraw %}", "{%raw%}", "'", '"', '"""',
                          "\\", "\n", ": ", "- ", "#", "&a", "*a", "!!python/object", "$(rm -rf /)", "`id`",
                          "\t", " ", "ü", "✓", "😀", "\x85", "\u2028", "\ufeff"])
HOSTILE = st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=12).map("".join)
RENDER = StandinEngine("tasks: []", "x")


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_rendered_property_values_round_trip(text):
    flow = k.KestraFlow(
        id="f", namespace="n", description=text,
        inputs=[k.Input(id="p", type="STRING", required=False, defaults=literal(text), description=text)],
        tasks=[k.ScriptTask(id="s", commands=["python -m metaflow_kestra.task"], env={"V": literal(text)})],
        labels={"metaflow-tags": text},
    )
    parsed = yaml_out.load(yaml_out.dump(flow.to_dict()))
    assert parsed["description"] == text and parsed["labels"]["metaflow-tags"] == text
    assert RENDER.render(parsed["inputs"][0]["defaults"], None) == text
    assert RENDER.render(parsed["tasks"][0]["env"]["V"], None) == text


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(HOSTILE, st.one_of(HOSTILE, st.integers(), st.lists(HOSTILE, max_size=3)), max_size=4))
def test_inert_json_never_holds_a_template_delimiter(data):
    encoded = inert_json(data)
    assert not has_template_syntax(encoded)
    assert json.loads(RENDER.render(encoded, None)) == data

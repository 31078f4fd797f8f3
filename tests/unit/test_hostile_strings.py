"""Property: any user string survives YAML serialization exactly, and JSON we embed holds no template.

What Kestra's Pebble makes of these strings is checked on the real server, with a batch of the
same pieces, in tests/e2e/test_hostile_strings_on_kestra.py.
"""

import yaml
import json

from hypothesis import example, given, settings, strategies as st

from metaflow_kestra import kestra_flow as k
from metaflow_kestra import yaml_out
from metaflow_kestra.pebble import has_template_syntax, inert_json, literal
from tests.hostile import PEBBLE_CASES, PIECES

# Text biased towards what breaks templates, YAML and shells.
HOSTILE = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=5)), max_size=12).map("".join)
# Tried on every run, whatever Hypothesis draws besides: each piece alone, all of them glued, and
# every Pebble case (NEL, \x85, is the one a draw once found: it came back as a space).
EXPLICIT = PIECES + ["".join(PIECES)] + PEBBLE_CASES


def with_examples(values, wrap=lambda value: value):
    def decorate(test):
        for value in reversed(values):
            test = example(wrap(value))(test)
        return test
    return decorate


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
@with_examples(EXPLICIT)
def test_property_values_round_trip_through_yaml(text):
    flow = k.KestraFlow(
        id="f", namespace="n", description=text,
        inputs=[k.Input(id="p", type="STRING", required=False, defaults=literal(text), description=text)],
        tasks=[k.ScriptTask(id="s", commands=["python -m metaflow_kestra.task"], env={"V": literal(text)})],
        labels={"metaflow-tags": text},
    )
    parsed = yaml.safe_load(yaml_out.dump(flow.to_dict()))
    assert parsed["description"] == text and parsed["labels"]["metaflow-tags"] == text
    assert parsed["inputs"][0]["description"] == text
    assert parsed["inputs"][0]["defaults"] == literal(text)
    assert parsed["tasks"][0]["env"]["V"] == literal(text)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(HOSTILE, st.one_of(HOSTILE, st.integers(), st.lists(HOSTILE, max_size=3)), max_size=4))
@with_examples(EXPLICIT, wrap=lambda value: {value: [value, value]})
def test_inert_json_never_holds_a_template_delimiter(data):
    encoded = inert_json(data)
    assert not has_template_syntax(encoded)  # so a template engine leaves it as it is
    assert json.loads(encoded) == data

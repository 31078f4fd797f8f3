"""User strings stay literal in properties Kestra renders."""

import json

import pytest

from metaflow_kestra.pebble import has_template_syntax, inert_json, literal
from tests.standin_engine import StandinEngine

HOSTILE = [
    "plain text",
    "{{ execution.id }}",
    "{% if true %}x{% endif %}",
    "{# comment #}",
    "a {% endraw %} b",
    "{%- endraw -%}{%endraw%}",
    "'quoted' \"double\" '''triple''' \\back\\slash",
    "line1\nline2 {{ x }}\n",
    "unicode ✓ {{ ünïcode }}",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_literal_renders_back_to_the_same_text(text):
    engine = StandinEngine("tasks: []", "x")
    assert engine.render(literal(text), None) == text


def test_text_without_delimiters_is_unchanged():
    assert literal("hello {world}") == "hello {world}"
    assert not has_template_syntax("a { b } % #")


@pytest.mark.parametrize("text", HOSTILE)
def test_inert_json_has_no_delimiters_and_decodes_exactly(text):
    encoded = inert_json({"value": text, "nested": {"list": [text]}})
    assert not has_template_syntax(encoded)
    assert json.loads(encoded) == {"value": text, "nested": {"list": [text]}}

"""User strings stay literal in properties Kestra renders.

That `literal` renders back to the same text is checked by Kestra's own Pebble, on the real
server, for each of these cases (tests/e2e/test_hostile_strings_on_kestra.py).
"""

import json

import pytest

from metaflow_kestra.pebble import has_template_syntax, inert_json, literal
from tests.hostile import PEBBLE_CASES


def test_text_without_delimiters_is_unchanged():
    assert literal("hello {world}") == "hello {world}"
    assert not has_template_syntax("a { b } % #")


@pytest.mark.parametrize("text", PEBBLE_CASES)
def test_inert_json_has_no_delimiters_and_decodes_exactly(text):
    encoded = inert_json({"value": text, "nested": {"list": [text]}})
    assert not has_template_syntax(encoded)
    assert json.loads(encoded) == {"value": text, "nested": {"list": [text]}}

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


def test_no_raw_block_spans_a_line_break():
    """Kestra finds raw blocks with a Java regex whose `.` stops at line terminators."""
    import re

    from metaflow_kestra.pebble import env_literal, literal

    text = "a {{ x }}\nb {% if %}\r\nc {# y #}\u2028d\u2029e\u0085{% endraw %}\rf"
    for rendered in (literal(text), env_literal(text)):
        for block in re.findall(r"\{% raw %\}(.*?)\{% endraw %\}", rendered, re.S):
            assert not re.search("[\n\r\u0085\u2028\u2029]", block)

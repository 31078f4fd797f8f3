"""User strings stay literal in properties Kestra renders.

That `literal` renders back to the same text is checked by Kestra's own Pebble, on the real
server, for each of these cases (tests/e2e/test_hostile_strings_on_kestra.py).
"""

import json
import re

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


# Kestra's raw-block pattern, read from io.kestra.core.runners.VariableRenderer.RAW_PATTERN in
# core-1.3.31.jar and core-2.0.0.jar (`javap -v`; the same on both lines):
#     (\{%-*\s*raw\s*-*%}(.*?)\{%-*\s*endraw\s*-*%})
# compiled with no flags, so Java's `\s` is ASCII whitespace and `.` stops at line terminators.
_JAVA_SPACE = "[ \t\n\x0b\f\r]"
_KESTRA_RAW = re.compile(r"\{%%-*%(s)s*raw%(s)s*-*%%\}[^\n\r\x85\u2028\u2029]*?\{%%-*%(s)s*endraw%(s)s*-*%%\}"
                         % {"s": _JAVA_SPACE})
# What `literal` writes between raw blocks: a single-quoted Pebble string expression.
_STRING_EXPRESSION = re.compile(r"\{\{ '(?:[^'\\]|\\.)*' \}\}")



def evaluated_outside_raw_blocks(template):
    """The template syntax Kestra's Pebble would evaluate in `template`: whatever is left once
    Kestra's raw blocks and literal's string expressions are taken out."""
    rest = _STRING_EXPRESSION.sub("", _KESTRA_RAW.sub("", template))
    return rest if has_template_syntax(rest) else None


@pytest.mark.parametrize("text", PEBBLE_CASES)
def test_nothing_of_a_literal_is_evaluated_whatever_ends_a_raw_block(text):
    from metaflow_kestra.pebble import env_literal

    assert evaluated_outside_raw_blocks(literal(text)) is None
    assert evaluated_outside_raw_blocks(env_literal(text)) is None

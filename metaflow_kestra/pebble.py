"""Keep user strings out of Kestra's template engine.

Kestra renders some properties with Pebble (`{{ expr }}`, `{% tag %}`,
`{# comment #}`); input defaults, for one, are rendered since 1.0. A user
string placed in such a property must come out exactly as written, so
`literal()` wraps any text that contains a Pebble delimiter in raw blocks.
Text without delimiters is returned unchanged, so the YAML stays readable.
"""

import json
import re

_DELIMITER = re.compile(r"\{[{%#]")
# What may end a raw block. Kestra's own pattern (VariableRenderer.RAW_PATTERN, 1.3.31 and 2.0.0)
# allows any number of dashes on either side and Java's ASCII whitespace; Python's `\s` is wider,
# and `endverbatim`, which Pebble's lexer also takes as the end of a raw block, is split too:
# ending a piece early costs nothing, ending it late lets the rest be evaluated.
_END_RAW = re.compile(r"\{%-*\s*end(?:raw|verbatim)\s*-*%\}")


def has_template_syntax(text):
    return bool(_DELIMITER.search(text))


# What ends a line for Java's regex `.`: Kestra finds `{% raw %}` blocks with such a
# regex, so a raw block must not span one. Line breaks are no Pebble syntax: they
# stay outside the blocks.
_LINE_BREAK = re.compile(r"(\r\n|[\n\r\u0085\u2028\u2029])")


def literal(text):
    """`text` as a Pebble template that renders to exactly `text`."""
    if not has_template_syntax(text):
        return text
    pieces = _LINE_BREAK.split(text)
    # Odd indices are the line breaks themselves, kept as they are.
    return "".join(piece if index % 2 else _literal_line(piece) for index, piece in enumerate(pieces))


def _literal_line(text):
    """`literal` for text with no line break."""
    if not has_template_syntax(text):
        return text
    # A raw block ends at the first `{% endraw %}`: emit each such tag as a
    # string expression between raw blocks, so nothing in `text` is evaluated.
    parts = []
    position = 0
    for match in _END_RAW.finditer(text):
        parts.append(_raw(text[position:match.start()]))
        parts.append("{{ %s }}" % _string_literal(match.group(0)))
        position = match.end()
    parts.append(_raw(text[position:]))
    return "".join(part for part in parts if part)


def env_literal(text):
    """`text` for a script task's `env`, which Kestra renders twice.

    `AbstractExecScript.commands()` renders `env`, then `TaskRunner.env()`
    renders the result again (core and script modules, 1.3 and 2.0); a
    template that renders to `literal(text)` renders, once more, to `text`.
    """
    return literal(literal(text))


def encoded(expression):
    """A Pebble expression whose value reaches a script task's `env` intact.

    Values known only at run time (inputs, labels, trigger payloads, secrets)
    may hold Pebble syntax that the second render of `env` would evaluate;
    base64 holds no `{`, so it survives. Decode with `decoded`.
    """
    return "{{ %s | base64encode }}" % expression


def decoded(value):
    """The text `encoded` sent, or None when the variable was not set."""
    import base64

    return None if value is None else base64.b64decode(value).decode("utf-8")


def _raw(text):
    return "{%% raw %%}%s{%% endraw %%}" % text if text else ""


def _string_literal(text):
    # Single-quoted Pebble strings take no `#{}` interpolation; escape \ and '.
    return "'%s'" % text.replace("\\", "\\\\").replace("'", "\\'")


_OPENING = re.compile(r"\{(?=[{%#])")


def inert_json(data):
    """Compact JSON for `data` that contains no Pebble delimiter.

    Outside strings, compact JSON never puts `{`, `%` or `#` after a `{`; inside
    strings such a `{` is written as the JSON escape `\\u007b`, which any JSON
    reader decodes back. The text can therefore sit in any rendered property,
    whether or not the server renders it twice.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return _OPENING.sub(r"\\u007b", text)

"""Strings that break templates, YAML and shells: for the unit property tests and the e2e batch."""

# Pieces that break Pebble (`{{ }}`, `{% %}`, `{# #}`, raw blocks), YAML (`: `, `- `, `#`,
# anchors, tags), shells (`$()`, backquotes), quoting, and unusual characters (NEL, LINE
# SEPARATOR, BOM): the property tests glue them together, the e2e batch uses them as they are.
PIECES = ["{{", "}}", "{%", "%}", "{#", "#}", "{% endraw %}", "{%raw%}", "'", '"', '"""',
          "\\", "\n", ": ", "- ", "#", "&a", "*a", "!!python/object", "$(rm -rf /)", "`id`",
          "\t", " ", "ü", "✓", "😀", "\x85", "\u2028", "\ufeff"]

# Raw-block ends that Kestra's raw pattern accepts (any number of dashes, any ASCII whitespace)
# and Pebble's lexer too (`endverbatim`): each must not close literal's raw block early, or what
# follows is evaluated (issue 26, finding 5).
RAW_BREAKOUTS = [
    "{%-- endraw %}{{ 7 * 6 }}{%-- raw %}",
    "{% endraw --%}{{ 7 * 6 }}",
    "{%---endraw---%}{{ 7 * 6 }}",
    "{%--\tendraw\x0b--%}{{ 7 * 6 }}",
    "{% endverbatim %}{{ 7 * 6 }}",
    "{%-- endraw %}{{ secret('X') }}{%-- raw %}",
]

# Whole values a user might write, Pebble syntax of every kind among them.
PEBBLE_CASES = RAW_BREAKOUTS + [
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

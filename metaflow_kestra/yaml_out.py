"""The one place that knows YAML: serialize a Kestra flow's plain data.

Block style, keys in the order the model gives them, no anchors or aliases
(a reader should never have to chase `*id001`), and strings quoted whenever
YAML would otherwise read them as something else.
"""

import yaml


class _FlowDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def _represent_str(dumper, text):
    style = "|" if "\n" in text and _block_safe(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _block_safe(text):
    # Literal blocks cannot hold trailing spaces on a line or some control characters faithfully.
    return all(not line.endswith((" ", "\t")) for line in text.split("\n")) and all(
        ch in "\n\t" or (ch >= " " and ch not in "\x7f\x85\u2028\u2029\ufeff") for ch in text
    )


_FlowDumper.add_representer(str, _represent_str)


def dump(data):
    """YAML text for `data` (dicts, lists, strings, numbers, booleans, None)."""
    return yaml.dump(
        data, Dumper=_FlowDumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=100000,
    )


def load(text):
    """Parse YAML produced by `dump` (used by tests and `--only-json`)."""
    return yaml.safe_load(text)

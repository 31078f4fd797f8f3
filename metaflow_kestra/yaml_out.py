"""The one place that knows YAML: serialize a Kestra flow's plain data.

Block style, keys in the order the model gives them, no anchors or aliases
(a reader should never have to chase `*id001`), and strings quoted whenever
YAML would otherwise read them as something else.
"""

import yaml

# libyaml's emitter when PyYAML has it (its wheels do): the pure-Python one was most of
# the compile time of a long flow (0.77 s of a 900-step chain's YAML, against ~0.1 s).
_BASE = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _FlowDumper(_BASE):
    def ignore_aliases(self, data):
        return True


_UNSAFE = frozenset("\x7f\x85\u2028\u2029\ufeff")


def _represent_str(dumper, text):
    if _has_special_characters(text):
        style = '"'  # escapes them (\N, \L, \P, \x..): YAML would read them back as line breaks
    elif "\n" in text:
        style = "|" if all(not line.endswith((" ", "\t")) for line in text.split("\n")) else '"'
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _has_special_characters(text):
    return any((ch < " " and ch not in "\n\t") or ch in _UNSAFE for ch in text)


_FlowDumper.add_representer(str, _represent_str)


def dump(data):
    """YAML text for `data` (dicts, lists, strings, numbers, booleans, None)."""
    return yaml.dump(
        data, Dumper=_FlowDumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=100000,
    )



def dump_all(documents):
    """One YAML stream of several flows, `---` between them (Kestra reads one flow per document)."""
    return yaml.dump_all(
        documents, Dumper=_FlowDumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=100000,
    )


def documents(text):
    """The flows of a stream written by `dump` or `dump_all`, each as its own YAML text."""
    return [dump(data) for data in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            if data is not None]


def flow_id_of(text):
    """The `id` of the flow in a YAML document."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["id"]

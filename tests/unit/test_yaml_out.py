import yaml
from metaflow_kestra import yaml_out


def test_round_trip_keeps_order_strings_and_no_aliases():
    shared = {"type": "x"}
    data = {"id": "f", "tasks": [{"a": shared}, {"b": shared}], "text": "multi\nline\n",
            "odd": "yes", "num": "007", "trailing": "x \ny", "empty": ""}
    text = yaml_out.dump(data)
    assert "&id" not in text and "*id" not in text
    assert list(yaml.safe_load(text)) == list(data)
    assert yaml.safe_load(text) == data


def test_characters_yaml_reads_as_line_breaks_survive():
    # Found by the hypothesis test: NEL (\x85) came back as a space.
    for text in ["\x85", "a\u2028b", "x\u2029", "\ufeffbom", "tab\tand\x07bell", "line\n \nx"]:
        assert yaml.safe_load(yaml_out.dump({"v": text})) == {"v": text}

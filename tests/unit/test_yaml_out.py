from metaflow_kestra import yaml_out


def test_round_trip_keeps_order_strings_and_no_aliases():
    shared = {"type": "x"}
    data = {"id": "f", "tasks": [{"a": shared}, {"b": shared}], "text": "multi\nline\n",
            "odd": "yes", "num": "007", "trailing": "x \ny", "empty": ""}
    text = yaml_out.dump(data)
    assert "&id" not in text and "*id" not in text
    assert list(yaml_out.load(text)) == list(data)
    assert yaml_out.load(text) == data

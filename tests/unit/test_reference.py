from pathlib import Path

from metaflow_kestra.reference import render

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_the_command_reference_is_up_to_date():
    assert REFERENCE.read_text() == render(), (
        "docs/reference.md is out of date: run `python -m metaflow_kestra.reference > docs/reference.md`"
    )

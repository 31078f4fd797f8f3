import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_the_command_reference_is_up_to_date():
    # A fresh interpreter: in-process users of Metaflow's click API (the Deployer) add a
    # flow's parameters to our commands, which the reference must not show.
    done = subprocess.run([sys.executable, "-m", "metaflow_kestra.reference"], capture_output=True, text=True,
                          check=True)
    assert REFERENCE.read_text() == done.stdout, (
        "docs/reference.md is out of date: run `python -m metaflow_kestra.reference > docs/reference.md`"
    )

"""Hostile strings reach the step exactly through Kestra's real Pebble, YAML parser and env handling.

One generated flow carries a batch of them, each as a parameter default, a parameter value, a
parameter's help and an @environment value, half of them also as deployment tags; two executions
check them all (defaults, then values). The property tests of the same pieces without a server are
in tests/unit/test_hostile_strings.py.
"""

import ast
import random
import re

import pytest

from metaflow_kestra.pebble import has_template_syntax
from tests.e2e.test_flows_on_kestra import NAMESPACE, run_on_kestra
from tests.hostile import PEBBLE_CASES, PIECES

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0


def hostile_batch(combinations=12, seed=20240601):
    """Every piece alone, the Pebble cases, and reproducible runs of pieces glued together."""
    rng = random.Random(seed)
    glued = ["".join(rng.choice(PIECES) for _ in range(rng.randint(3, 8))) for _ in range(combinations)]
    batch = []
    for text in PIECES + PEBBLE_CASES + glued + ["{%- endraw -%} {{ '{% raw %}' }}"]:
        if text not in batch:
            batch.append(text)
    return batch


# Java regexes' `.` stops at these; Kestra finds `{% raw %}` blocks with such a regex.
_LINE_TERMINATOR = re.compile("[\n\r\x85\u2028\u2029]")


def breaks_raw_blocks(text):
    """Template syntax and a line break: `pebble.literal` makes a raw block Kestra cannot find."""
    return has_template_syntax(text) and bool(_LINE_TERMINATOR.search(text))


BATCH = hostile_batch()
STRINGS = [text for text in BATCH if not breaks_raw_blocks(text)]
MULTILINE_TEMPLATES = [text for text in BATCH if breaks_raw_blocks(text)]
DESCRIPTION = "Hostile {{ flow }} {% raw %} description {# c #} \\ ' \" ✓"

_FLOW = '''import os

from metaflow import FlowSpec, Parameter, current, environment, step

STRINGS = {strings!r}


class {name}(FlowSpec):
    {description!r}

{parameters}

    @environment(vars={{"H%02d" % i: text for i, text in enumerate(STRINGS)}})
    @step
    def start(self):
        self.params = [getattr(self, "p%02d" % i) for i in range(len(STRINGS))]
        self.env = [os.environ["H%02d" % i] for i in range(len(STRINGS))]
        self.tags = sorted(current.tags)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    {name}()
'''


def write_flow(directory, name, strings):
    parameters = "\n".join('    p%02d = Parameter("p%02d", default=STRINGS[%d], help=STRINGS[%d])' % (i, i, i, i)
                           for i in range(len(strings)))
    path = directory / ("%s.py" % name.lower())
    path.write_text(_FLOW.format(name=name, strings=strings, description=DESCRIPTION, parameters=parameters),
                    encoding="utf-8")
    return path


def start_artifacts(workspace, name, flow_file, run_id):
    run = workspace.artifacts(name, run_id, name=str(flow_file))
    assert run["successful"]
    return {artifact: ast.literal_eval(value) for artifact, value in run["steps"]["start"][0]}


def check_batch(workspace, kestra_client, name, strings):
    flow_file = write_flow(workspace.root, name, strings)
    tags = strings[::2]  # Metaflow allows 50 user tags per run; the runtime adds two of its own
    # Run 1: `run` deploys (tags, help, defaults, @environment) and starts with every default.
    _, run_id = run_on_kestra(workspace, str(flow_file), *["--tag=%s" % tag for tag in tags])
    start = start_artifacts(workspace, name, flow_file, run_id)
    assert start["params"] == strings
    assert start["env"] == strings
    assert set(tags) <= set(start["tags"])

    deployed = kestra_client.flow(NAMESPACE, name.lower())
    assert deployed["description"] == DESCRIPTION
    assert [i.get("description") for i in deployed["inputs"]] == strings

    # Run 2: every parameter given a value (another string of the batch) when triggered.
    values = strings[::-1]
    run_id_file = workspace.root / ("%s-values.run-id" % name)
    workspace.flow_command(str(flow_file), "kestra", "--kestra-namespace", NAMESPACE, "trigger", "--wait",
                           "--run-id-file", str(run_id_file),
                           *["--p%02d=%s" % (i, value) for i, value in enumerate(values)])
    start = start_artifacts(workspace, name, flow_file, run_id_file.read_text())
    assert start["params"] == values
    assert start["env"] == strings
    assert set(tags) <= set(start["tags"])


def test_hostile_strings_reach_the_step_exactly(workspace, kestra_client):
    check_batch(workspace, kestra_client, "HostileFlow", STRINGS)


# Regression: pebble.literal once wrapped text holding a line break in one {% raw %} block;
# Kestra's VariableRenderer finds raw blocks with a Java regex whose `.` stops at line
# terminators, so Pebble saw the raw tag and failed (ParserException: Unexpected tag name "raw").
def test_multiline_templates_reach_the_step_exactly(workspace, kestra_client):
    check_batch(workspace, kestra_client, "MultilineHostileFlow", MULTILINE_TEMPLATES)

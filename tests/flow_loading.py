"""Load the sample flows in tests/flows as classes and graphs, without running them."""

import importlib.util
import inspect
from pathlib import Path

from metaflow import FlowSpec
from metaflow.graph import FlowGraph

FLOWS_DIR = Path(__file__).with_name("flows")
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


def flow_path(name):
    """tests/flows/<name>.py, else examples/<name>.py."""
    sample = FLOWS_DIR / ("%s.py" % name)
    return sample if sample.exists() else EXAMPLES_DIR / ("%s.py" % name)


def load_flow_class(name):
    spec = importlib.util.spec_from_file_location("sample_%s" % name, flow_path(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [
        obj for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, FlowSpec) and obj is not FlowSpec
    ]
    assert len(classes) == 1, classes
    return classes[0]


def load_graph(name):
    return FlowGraph(load_flow_class(name))


def load_flow(name):
    """An instance of the sample flow with its Parameters initialized, as Metaflow's CLI leaves them."""
    flow = load_flow_class(name)(use_cli=False)
    for _, param in flow._get_parameters():
        param.init()
    return flow

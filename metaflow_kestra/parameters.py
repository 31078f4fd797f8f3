"""Metaflow Parameters as typed Kestra inputs, and input values back as `init` arguments.

Values travel as data end to end: Kestra hands the start task its inputs as
one JSON document (`{{ inputs | toJson }}`, rendered once, never again), and
`init_environment` turns each value into the `METAFLOW_INIT_<NAME>` variable
Metaflow's `init` command reads. No value is ever written into source code
or a template; a default that looks like a template is made literal.
"""

import json
import re

from .errors import KestraError
from .kestra_flow import Input
from .pebble import literal

# BOOL, not BOOLEAN: BOOLEAN is deprecated in Kestra 1.3 and gone in 2.0.
STRING, INT, FLOAT, BOOLEAN, JSON = "STRING", "INT", "FLOAT", "BOOL", "JSON"
_INPUT_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


class UnsupportedParameter(KestraError):
    pass


def kestra_type(param):
    """The Kestra input type for a Metaflow Parameter."""
    from metaflow.parameters import JSONTypeClass

    kind = param.kwargs.get("type")
    if isinstance(kind, JSONTypeClass):
        return JSON
    if kind is bool:
        return BOOLEAN
    if kind is int:
        return INT
    if kind is float:
        return FLOAT
    return STRING


def flow_parameters(flow):
    """[(name, Parameter)] of the flow's value parameters (Configs are frozen at deploy time)."""
    return [(param.name, param) for _, param in flow._get_parameters() if not param.IS_CONFIG_PARAMETER]


def kestra_inputs(flow, flow_name):
    """Kestra inputs for the flow's Parameters, in declaration order."""
    from metaflow.parameters import deploy_time_eval

    inputs, seen = [], set()
    for name, param in flow_parameters(flow):
        if not _INPUT_ID.match(name):
            raise UnsupportedParameter(
                "Flow %s, parameter %r: Kestra input ids use letters, digits, '_', '.' and '-' "
                "and start with a letter or digit. Rename the parameter." % (flow_name, name)
            )
        if name.lower() in seen:
            raise UnsupportedParameter(
                "Flow %s: parameter %r is declared twice (names are case-insensitive)." % (flow_name, name)
            )
        seen.add(name.lower())
        kind = kestra_type(param)
        default = deploy_time_eval(param.kwargs.get("default"))
        inputs.append(Input(
            id=name,
            type=kind,
            # Kestra refuses an input with a default that is not required ("the default
            # is always applied"); it still applies the default when no value is given.
            required=bool(param.kwargs.get("required", False)) or default is not None,
            defaults=None if default is None else _input_default(kind, default),
            description=param.kwargs.get("help") or None,
        ))
    return inputs


def _input_default(kind, value):
    if kind == JSON:
        text = value if isinstance(value, str) else json.dumps(value)
        return literal(text)
    if kind == BOOLEAN:
        return bool(value)
    if kind in (INT, FLOAT):
        return value
    return literal(str(value))


def parameter_kinds(flow):
    """{name: Kestra type}, recorded in the deployment for the runtime."""
    return {name: kestra_type(param) for name, param in flow_parameters(flow)}


def init_environment(kinds, input_values):
    """METAFLOW_INIT_* variables for `init` from Kestra's input values (absent or null: default)."""
    env = {}
    for name, kind in kinds.items():
        value = input_values.get(name)
        if value is None:
            continue
        env["METAFLOW_INIT_%s" % name.upper().replace("-", "_").replace(".", "_")] = _as_cli_value(kind, value)
    return env


def _as_cli_value(kind, value):
    if kind == JSON:
        return value if isinstance(value, str) else json.dumps(value)
    if kind == BOOLEAN:
        if isinstance(value, str):
            return value.lower()
        return "true" if value else "false"
    if kind == FLOAT:
        return repr(float(value))
    return str(value)

"""Metaflow Parameters as typed Kestra inputs, and input values back as `init` arguments.

Values travel as data end to end: Kestra hands the start task its inputs as
one JSON document (`{{ inputs | toJson }}`, rendered once, never again), and
`init_environment` turns each value into the `METAFLOW_INIT_<NAME>` variable
Metaflow's `init` command reads. No value is ever written into source code
or a template; a default that looks like a template is made literal.
"""

import json
import os
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


def kestra_inputs(flow, flow_name, environ=None):
    """Kestra inputs for the flow's Parameters, in declaration order."""
    environ = os.environ if environ is None else environ
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
        default = deploy_default(param, flow_name, environ)
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


def run_default_variable(name):
    """METAFLOW_RUN_<NAME>: what a local `run --<name>` reads when the option is not given
    (Metaflow's CLI runs click with auto_envvar_prefix="METAFLOW")."""
    return "METAFLOW_RUN_%s" % name.replace("-", "_").upper()


def environment_defaults(flow, environ=None):
    """{parameter name: variable} of the Parameters whose METAFLOW_RUN_<NAME> is set."""
    environ = os.environ if environ is None else environ
    return {name: run_default_variable(name) for name, _ in flow_parameters(flow)
            if run_default_variable(name) in environ}


def deploy_default(param, flow_name, environ):
    """The default a deployment gets: METAFLOW_RUN_<NAME> when set, read as a local `run` reads
    it, else the declared default; evaluated as Metaflow evaluates it at deploy time (an
    IncludeFile's file is read and stored in the datastore)."""
    from metaflow.parameters import deploy_time_eval

    variable = run_default_variable(param.name)
    if variable not in environ:
        return deploy_time_eval(param.kwargs.get("default"))
    value = environ[variable]
    try:
        return deploy_time_eval(_from_environment(param, value))
    except Exception as error:  # click's BadParameter, Metaflow's errors (a traceback inside): its last line
        lines = [line.strip() for line in str(getattr(error, "message", None) or error).splitlines() if line.strip()]
        message = lines[-1] if lines else type(error).__name__
        raise UnsupportedParameter("Flow %s, parameter %r: %s=%r cannot be its default: %s. Fix or unset %s."
                                   % (flow_name, param.name, variable, value, message, variable))


def _from_environment(param, value):
    from metaflow._vendor import click
    from metaflow.includefile import FilePathClass, IncludeFile
    from metaflow.parameters import DeployTimeField

    kind = param.kwargs.get("type")
    if isinstance(kind, FilePathClass):  # as IncludeFile makes its declared default
        if not os.path.isfile(os.path.expanduser(value)):
            raise ValueError("no such file")
        return DeployTimeField(param.name, str, "default",
                               IncludeFile._eval_default(kind._is_text, kind._encoding, value),
                               print_representation=value)
    return click.types.convert_type(kind if kind is not None else str).convert(value, None, None)


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

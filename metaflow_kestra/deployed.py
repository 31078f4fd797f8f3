"""What a deployed flow tells about itself, for `from_deployment`.

The Kestra flow carries its deployment (variable `metaflow_deployment`) and
typed inputs; from those we write a stand-in flow file with the same name
and Parameters, which is all Metaflow's Deployer needs to trigger it. The
source is generated from data with `repr`, so no user string becomes code.
"""

from dataclasses import dataclass, field
from typing import List

from .deployment import Deployment
from .errors import KestraError

_PYTHON_TYPES = {"STRING": "str", "INT": "int", "FLOAT": "float", "BOOL": "bool", "BOOLEAN": "bool"}


@dataclass
class DeployedParameter:
    name: str
    type: str
    description: str = ""
    required: bool = False


@dataclass
class DeploymentDescription:
    flow_name: str
    user: str
    parameters: List[DeployedParameter] = field(default_factory=list)


def describe_deployment(flow_json):
    variables = flow_json.get("variables") or {}
    if "metaflow_deployment" not in variables:
        raise KestraError(
            "Kestra flow %s.%s was not deployed by metaflow-kestra (no metaflow_deployment variable)."
            % (flow_json.get("namespace"), flow_json.get("id"))
        )
    deployment = Deployment.from_json(variables["metaflow_deployment"])
    parameters = [
        # Kestra marks an input with a default as required; the caller may still omit it.
        DeployedParameter(i["id"], i["type"], i.get("description") or "",
                          bool(i.get("required")) and i.get("defaults") is None)
        for i in flow_json.get("inputs") or []
    ]
    return DeploymentDescription(
        deployment.flow_name, deployment.environment_variables.get("METAFLOW_USER", ""), parameters
    )


def stand_in_flow_source(description):
    """Python source of a flow with the deployed flow's name and Parameters."""
    if not description.flow_name.isidentifier():
        raise KestraError("Deployed flow name %r is not a Python identifier." % description.flow_name)
    lines = ["from metaflow import FlowSpec, JSONType, Parameter, step", "",
             "", "class %s(FlowSpec):" % description.flow_name]
    for index, param in enumerate(description.parameters):
        kind = "JSONType" if param.type == "JSON" else _PYTHON_TYPES.get(param.type, "str")
        lines.append("    p%d = Parameter(%r, type=%s, help=%r, required=%r)"
                     % (index, param.name, kind, param.description, param.required))
    lines += ["", "    @step", "    def start(self):", "        self.next(self.end)", "",
              "    @step", "    def end(self):", "        pass", "", "",
              "if __name__ == '__main__':", "    %s()" % description.flow_name, ""]
    return "\n".join(lines)

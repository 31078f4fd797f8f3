"""What every task of a deployed flow shares: how to run Metaflow on the worker.

Built once at compile time, carried to each task as one JSON value, read by
`runtime`. It names the flow, its code, the Metaflow options in force at
deploy time (metadata, datastore and its root), the tags of the deployment
and the Parameter types, so every step writes where the client reads.
"""

import json
from dataclasses import asdict, dataclass, field
from typing import Dict, List

from .pebble import inert_json


@dataclass(frozen=True)
class Deployment:
    flow_name: str
    flow_file: str
    kestra_namespace: str = ""
    kestra_flow_id: str = ""
    metadata: str = "local"
    environment: str = "local"
    datastore: str = "local"
    datastore_root: str = ""
    tags: List[str] = field(default_factory=list)
    parameters: Dict[str, str] = field(default_factory=dict)  # name -> Kestra input type
    environment_variables: Dict[str, str] = field(default_factory=dict)

    def top_level_options(self):
        """Metaflow's top-level options for `init` and `step`, as Argo passes them."""
        options = [
            "--quiet", "--no-pylint",
            "--metadata=%s" % self.metadata,
            "--environment=%s" % self.environment,
            "--datastore=%s" % self.datastore,
        ]
        if self.datastore_root:
            options.append("--datastore-root=%s" % self.datastore_root)
        return options

    def to_json(self):
        return inert_json(asdict(self))

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))

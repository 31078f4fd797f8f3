"""What every task of a deployed flow shares: how to run Metaflow on the worker.

Built once at compile time, carried to each task as one JSON value, read by
`runtime`. It names the flow, its code, the Metaflow options in force at
deploy time (metadata, datastore and its root), the tags of the deployment
and the Parameter types, so every step writes where the client reads.
"""

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Dict, List

from . import __version__
from .errors import KestraError
from .pebble import inert_json

# The deployment's format, with what the compiled tasks hand the runtime: raised when
# another version's worker could not run it correctly. Adding a field that other
# workers may ignore keeps the format. 1: run-time values base64-encoded, inputs and
# trigger payloads as input files; deployments without a format (0) predate that.
DEPLOYMENT_FORMAT = 1


@dataclass(frozen=True)
class Deployment:
    flow_name: str
    flow_file: str  # inside the code package (or an absolute path when there is none)
    code_path: str = ""  # the package's Kestra namespace file
    code_sha: str = ""
    code_files_sha: str = ""  # code_package.files_digest: what the worker checks a cached copy with
    code_metadata: str = ""  # Metaflow's package metadata (package_metaflow.step_environment)
    worker_metaflow: bool = False  # run steps with the worker's Metaflow, not the package's
    # The Kestra secret holding the metadata service's headers (METAFLOW_SERVICE_HEADERS), if any.
    service_headers_secret: str = ""
    kestra_namespace: str = ""
    kestra_flow_id: str = ""
    metadata: str = "local"
    environment: str = "local"
    datastore: str = "local"
    datastore_root: str = ""
    tags: List[str] = field(default_factory=list)
    parameters: Dict[str, str] = field(default_factory=dict)  # name -> Kestra input type
    environment_variables: Dict[str, str] = field(default_factory=dict)
    # Top-level options of flow decorators (@project's --branch...) and frozen Config values.
    extra_options: List[str] = field(default_factory=list)
    events: List[dict] = field(default_factory=list)  # [{name, parameters: {param: payload field}}]
    upstream: Dict[str, str] = field(default_factory=dict)  # Kestra flow id -> Metaflow flow name
    workflow_timeout: int = 0  # seconds; 0 for none
    configs: Dict[str, list] = field(default_factory=dict)  # Config values frozen at deploy time
    production_token: str = ""  # runs are in Metaflow namespace production:<token> (production_token.py)
    notifications: Dict[str, object] = field(default_factory=dict)  # notifications.notification_spec
    # Kestra secrets (--secret) every task sets as environment variables of the same names.
    secret_environment: List[str] = field(default_factory=list)
    format: int = DEPLOYMENT_FORMAT
    written_by: str = __version__  # the metaflow-kestra that compiled the flow

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
        return options + list(self.extra_options)

    def config_options(self, config_file):
        """Options that load the frozen Config values from `config_file` (see `write_configs`)."""
        options = ["--local-config-file", config_file]
        for name in self.configs:
            options += ["--config-value", name, "kv.%s" % name]
        return options

    def write_configs(self, path):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"user_configs": self.configs}, handle)

    def to_json(self):
        return inert_json(asdict(self))

    @classmethod
    def from_json(cls, text):
        """The deployment a (possibly other) version of metaflow-kestra wrote.

        Fields this version does not know are ignored and missing ones take their
        defaults; another format, which this version cannot run correctly, is one
        error naming both versions.
        """
        data = json.loads(text)
        written_by = data.get("written_by", "a version before 0.1.0")
        written_format = data.get("format", 0)
        if written_format != DEPLOYMENT_FORMAT:
            raise KestraError(
                "This flow was deployed by metaflow-kestra %s (deployment format %s), but this worker "
                "has metaflow-kestra %s (format %d), which cannot run it. Redeploy it with this version "
                "(`python flow.py kestra create`), or install metaflow-kestra %s on the worker."
                % (written_by, written_format, __version__, DEPLOYMENT_FORMAT, written_by)
            )
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

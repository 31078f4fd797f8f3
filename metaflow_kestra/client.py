"""A small client for Kestra's REST API (1.x and 2.x, tenant-scoped paths).

One entry point, explicit timeouts, and errors that say what to do: a server
that is down, credentials it rejects, a flow it does not know.
"""

import time

import requests

from . import states
from .errors import KestraError, WaitTimedOut, flow_command
from .versions import TESTED_LINES, supported_major, tested

DEFAULT_TIMEOUT = 30
_warned_servers = set()  # URLs already told about an untested version, once per process
_UNASKED = object()


class KestraApiError(KestraError):
    """Kestra answered with an error status; carries the response."""

    def __init__(self, message, response=None):
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code if response is not None else None


def connect(host=None, username=None, password=None, token=None, tenant=None):
    """A client for the server these options name (else the environment's, else the local server)."""
    from .connection import resolve_connection

    return KestraClient(resolve_connection(host, username, password, token, tenant))


# The Deployer's connection keywords (the `kestra` group's options) -> connect()'s.
CONNECTION_KEYWORDS = {
    "kestra_host": "host", "kestra_user": "username", "kestra_password": "password",
    "kestra_token": "token", "kestra_tenant": "tenant",
}


def connection_arguments(connection):
    """connect()'s arguments for Deployer-style keywords (kestra_host=..., ...); others are a TypeError."""
    unknown = sorted(set(connection) - set(CONNECTION_KEYWORDS))
    if unknown:
        raise TypeError("Unknown Kestra connection argument(s) %s; use %s."
                        % (", ".join(unknown), ", ".join(sorted(CONNECTION_KEYWORDS))))
    return {CONNECTION_KEYWORDS[key]: value for key, value in connection.items()}


def connect_with_keywords(connection):
    """A client for Deployer-style connection keywords."""
    return connect(**connection_arguments(connection))


class KestraClient:
    def __init__(self, connection, timeout=DEFAULT_TIMEOUT):
        self.connection = connection
        self.timeout = timeout
        self.session = requests.Session()
        self._version = _UNASKED
        if connection.token:
            self.session.headers["Authorization"] = "Bearer %s" % connection.token
        elif connection.auth:
            self.session.auth = connection.auth

    # -- flows -----------------------------------------------------------

    def deploy_flow(self, flow_yaml, namespace, flow_id):
        """Create the flow, or update it if it exists; return Kestra's flow JSON."""
        headers = {"Content-Type": "application/x-yaml"}
        path = "flows/%s/%s" % (namespace, flow_id)
        response = self._request("PUT", path, data=flow_yaml.encode("utf-8"),
                                 headers=headers, allow=(404, 422))
        if response.status_code == 404:
            response = self._request("POST", "flows", data=flow_yaml.encode("utf-8"),
                                     headers=headers, allow=(422,))
        if response.status_code == 422:
            raise KestraApiError(self._refused_flow(namespace, flow_id, response), response)
        return response.json()

    def _refused_flow(self, namespace, flow_id, response):
        """One line for a flow Kestra refuses (HTTP 422): a task type it has no plugin for, or its reason."""
        import re

        text = _error_text(response)
        unknown = re.search(r"No plugin registered for the defined type: '([^']+)'|Invalid type: (\S+)", text)
        if unknown:
            task_type = unknown.group(1) or unknown.group(2)
            return ("Kestra at %s (version %s) has no plugin for task type %s, which flow %s.%s uses. Install "
                    "the plugin that provides it on the server (the local server `metaflow-kestra server start` "
                    "has every type metaflow-kestra emits), or point --kestra-host at a Kestra that has it."
                    % (self.connection.url, self.server_version() or "unknown", task_type, namespace, flow_id))
        return "Kestra refused flow %s.%s (HTTP 422): %s" % (namespace, flow_id, text.splitlines()[0][:400])

    # -- the server ------------------------------------------------------

    def server_version(self):
        """The Kestra version the server reports (`/api/v1/configs`), or None if it does not say."""
        if self._version is _UNASKED:
            response = self._request("GET", "configs", url=self.connection.url + "/api/v1/configs",
                                     allow=(401, 403, 404))
            try:
                body = response.json() if response.ok else {}
            except ValueError:
                body = {}
            self._version = body.get("version") if isinstance(body, dict) else None
        return self._version

    def kestra_major(self):
        """The server's major version; 1 when it does not say (Kestra 1.x is the LTS line)."""
        head = (self.server_version() or "1").split(".", 1)[0]
        return int(head) if head.isdigit() else 1

    def _action(self, execution_id, action):
        """Kestra 2 moved kill, restart and labels under `/executions/{id}/actions/`."""
        if self.kestra_major() >= 2:
            return "executions/%s/actions/%s" % (execution_id, action)
        return "executions/%s/%s" % (execution_id, action)

    def task_outputs(self, execution_id, task_run):
        """A task run's outputs: in the task run on Kestra 1.x, behind the outputs API on 2.x."""
        if self.kestra_major() < 2:
            return task_run.get("outputs") or {}
        response = self._request("GET", "outputs/tasks/%s/%s" % (execution_id, task_run["id"]), allow=(404,))
        return (response.json() or {}) if response.ok else {}

    def check_supported(self, warn=None):
        """Refuse, in one line, a server of a Kestra version this package cannot drive; say once,
        in one line, when its version is one the tests do not run on."""
        version = self.server_version()
        if version is None:
            return
        if supported_major(version) is None:
            raise KestraError(
                "Kestra at %s runs version %s; metaflow-kestra works with Kestra 1.x (1.3 LTS) and 2.x. "
                "Upgrade the server, or point --kestra-host at one of those versions." % (self.connection.url, version))
        if not tested(version) and self.connection.url not in _warned_servers:
            _warned_servers.add(self.connection.url)
            (warn or _warn)("metaflow-kestra: warning: Kestra at %s runs %s, a version metaflow-kestra is not "
                            "tested with (it is with %s); flows may deploy or run differently."
                            % (self.connection.url, version, " and ".join("%s.x" % t for t in TESTED_LINES)))

    def delete_flow(self, namespace, flow_id):
        self._request("DELETE", "flows/%s/%s" % (namespace, flow_id), not_found=_flow_not_found(namespace, flow_id))

    def upload_namespace_file(self, namespace, path, content):
        """Create or replace a namespace file (e.g. a flow's code package)."""
        response = self._request(
            "POST", "namespaces/%s/files" % namespace, params={"path": "/" + path.lstrip("/")},
            files={"fileContent": (path.rsplit("/", 1)[-1], content, "application/octet-stream")},
            allow=(413,),
        )
        if response.status_code == 413:
            raise KestraApiError(
                "Kestra at %s refused the %.1f MB code package as too large (HTTP 413). Raise its "
                "micronaut.server.max-request-size, or package fewer files (see Metaflow's package "
                "suffixes)." % (self.connection.url, len(content) / 1e6), response
            )

    def flow(self, namespace, flow_id):
        """The deployed flow's JSON (its inputs, labels, variables...)."""
        return self._request(
            "GET", "flows/%s/%s" % (namespace, flow_id), not_found=_flow_not_found(namespace, flow_id)
        ).json()

    def search_flows(self, namespace=None, labels=None, page_size=100):
        """Every flow that matches, page after page (a server may hold more than one page)."""
        filters = []
        if namespace:
            filters.append(("filters[namespace][EQUALS]", namespace))
        filters += [("filters[labels][EQUALS][%s]" % key, value) for key, value in (labels or {}).items()]
        flows, page = [], 1
        while True:
            params = [("size", page_size), ("page", page), ("sort", "id:asc")] + filters
            results = self._request("GET", "flows/search", params=params).json().get("results", [])
            flows.extend(results)
            if len(results) < page_size:
                return flows
            page += 1

    # -- executions ------------------------------------------------------

    def trigger(self, namespace, flow_id, inputs=None, labels=None):
        """Start an execution; `inputs` are sent as multipart form fields, as Kestra expects."""
        fields = [(name, (None, str(value))) for name, value in (inputs or {}).items()]
        params = [("labels", "%s:%s" % item) for item in (labels or {}).items()]
        response = self._request(
            "POST", "executions/%s/%s" % (namespace, flow_id),
            files=fields or None, params=params, not_found=_flow_not_found(namespace, flow_id),
        )
        return response.json()

    def webhook(self, namespace, flow_id, key, payload):
        """Fire a flow's Webhook trigger with a JSON body (what an event does)."""
        return self._request("POST", "executions/webhook/%s/%s/%s" % (namespace, flow_id, key), json=payload,
                             not_found=_flow_not_found(namespace, flow_id)).json()

    def execution(self, execution_id):
        return self._request(
            "GET", "executions/%s" % execution_id, not_found=_execution_not_found(execution_id)
        ).json()

    def search_executions(self, namespace, flow_id, states=(), size=100):
        """The flow's executions, newest first.

        Filters use the `filters[field][OP]` form: Kestra 1.x reads it, and 2.0
        ignores the older plain `namespace`/`flowId`/`state` parameters.
        """
        params = [("filters[namespace][EQUALS]", namespace), ("filters[flowId][EQUALS]", flow_id),
                  ("size", size), ("page", 1), ("sort", "state.startDate:desc")]
        if states:
            params.append(("filters[state][IN]", ",".join(states)))
        return self._request("GET", "executions/search", params=params).json().get("results", [])

    def child_executions(self, execution_id, states=(), size=1000):
        """Executions that `execution_id` started, oldest first: its ForEachItem and Subflow
        children on Kestra 1.x, its Loop items' sub-executions on 2.x."""
        if self.kestra_major() >= 2:
            parent = [("filters[parentId][EQUALS]", execution_id), ("filters[kind][EQUALS]", "LOOP")]
        else:
            parent = [("filters[triggerExecutionId][EQUALS]", execution_id)]
        params = parent + [("size", size), ("page", 1), ("sort", "state.startDate:asc")]
        if states:
            params.append(("filters[state][IN]", ",".join(states)))
        return self._request("GET", "executions/search", params=params).json().get("results", [])

    def loop_executions(self, execution, size=1000):
        """Kestra 2.x: the Loop sub-executions under `execution` at every depth, in one query.

        They carry the labels of the execution they belong to, its correlation id included;
        the parent links then keep only those under this one (the first `size`).
        """
        if self.kestra_major() < 2:
            return []
        correlation = _label(execution, "system.correlationId") or execution["id"]
        params = [("filters[kind][EQUALS]", "LOOP"), ("filters[namespace][EQUALS]", execution["namespace"]),
                  ("filters[flowId][EQUALS]", execution["flowId"]),
                  ("filters[labels][EQUALS][system.correlationId]", correlation),
                  ("size", size), ("page", 1), ("sort", "state.startDate:asc")]
        found = self._request("GET", "executions/search", params=params).json().get("results", [])
        return descendants_of(execution["id"], found)

    def kill(self, execution_id):
        self._request("DELETE", self._action(execution_id, "kill"),
                      not_found=_execution_not_found(execution_id))

    def restart(self, execution_id):
        """Kestra's Restart: re-run the failed task runs of the same execution."""
        return self._request("POST", self._action(execution_id, "restart"),
                             not_found=_execution_not_found(execution_id)).json()

    def pause(self, execution_id):
        """Kestra's pause of a running execution: running task runs finish, no new one starts."""
        self._request("POST", self._action(execution_id, "pause"), not_found=_execution_not_found(execution_id))

    def resume(self, execution_id):
        """Kestra's resume of an execution paused by hand (an empty form: no Pause task inputs)."""
        self._request("POST", self._action(execution_id, "resume"), not_found=_execution_not_found(execution_id),
                      data=b"--metaflow-kestra--\r\n",
                      headers={"Content-Type": "multipart/form-data; boundary=metaflow-kestra"})

    def logs(self, execution_id, task_id=None, min_level="INFO"):
        params = [("minLevel", min_level)] + ([("taskId", task_id)] if task_id else [])
        return self._request("GET", "logs/%s" % execution_id, params=params,
                             not_found=_execution_not_found(execution_id)).json()

    def wait(self, execution_id, timeout=600, poll=None, on_update=None):
        """Poll until the execution has ended, its afterExecution tasks (exit hooks) included;
        return its JSON. Every `poll` seconds, else often at first and less as the run goes on
        (`poll_interval`): a short run's end is noticed within a tenth of a second."""
        began = time.monotonic()
        deadline = began + timeout
        after_execution = None
        while True:
            execution = self.execution(execution_id)
            if on_update:
                on_update(execution)
            state = execution["state"]["current"]
            if state in states.TERMINAL:
                if after_execution is None:
                    after_execution = self.after_execution_tasks(execution)
                pending = unfinished_tasks(execution, after_execution)
                if not pending:
                    return execution
            if time.monotonic() > deadline:
                still = " (tasks not ended: %s)" % ", ".join(pending) if state in states.TERMINAL else ""
                raise WaitTimedOut("Execution %s did not finish within %ds (state %s%s)."
                                   % (execution_id, timeout, state, still))
            time.sleep(poll or poll_interval(time.monotonic() - began))

    def ended(self, execution):
        """Whether nothing more will run in the execution (its exit hooks included)."""
        return (execution["state"]["current"] in states.TERMINAL
                and not unfinished_tasks(execution, self.after_execution_tasks(execution)))

    def after_execution_tasks(self, execution):
        """Ids of the afterExecution tasks of the flow revision the execution ran."""
        try:
            flow = self._request("GET", "flows/%s/%s" % (execution["namespace"], execution["flowId"]),
                                 params=[("revision", execution["flowRevision"])]
                                 if execution.get("flowRevision") else None).json()
        except KestraError:  # the flow was deleted since: nothing more will start
            return frozenset()
        return frozenset(task["id"] for task in flow.get("afterExecution") or ())

    # -- plumbing --------------------------------------------------------

    def _url(self, path):
        return "%s/api/v1/%s/%s" % (self.connection.url, self.connection.tenant, path)

    def has_ui(self):
        """Whether a UI answers at <server>/ui/ (Kestra's, or the local server's, which opens Kestra's
        links too): links to it are printed only then."""
        if not hasattr(self, "_has_ui"):
            try:  # Kestra serves its UI's page to anyone: no credentials go with this request
                response = requests.get(self.connection.url + "/ui/", timeout=5, allow_redirects=True)
                self._has_ui = response.status_code == 200 and "html" in response.headers.get("Content-Type", "")
            except requests.RequestException:
                self._has_ui = False
        return self._has_ui

    def _request(self, method, path, allow=(), not_found=None, url=None, **kwargs):
        url = url or self._url(path)
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError:
            raise KestraError(
                "Cannot reach Kestra at %s. Is the server running? Start a local one "
                "with `metaflow-kestra server start`, or check --kestra-host."
                % self.connection.url
            )
        except requests.Timeout:
            raise KestraError(
                "Kestra at %s did not answer %s %s within %ds."
                % (self.connection.url, method, path, self.timeout)
            )
        except requests.RequestException as err:
            raise KestraError("Cannot call Kestra at %s (%s %s): %s. Check --kestra-host."
                              % (self.connection.url, method, path, err))
        if response.status_code in allow or response.ok:
            return response
        if response.status_code == 404 and not _kestra_error_body(response):
            raise KestraApiError(
                "The server at %s answered %s %s with HTTP 404, and not as Kestra does (no JSON error "
                "message): is it a Kestra server? Check --kestra-host (Kestra's API lives under "
                "/api/v1/<tenant>/)." % (self.connection.url, method, path), response
            )
        if response.status_code == 404 and not_found:
            raise KestraApiError(not_found, response)
        if response.status_code == 401:
            raise KestraApiError(
                "Kestra at %s rejected the credentials (HTTP 401). Check --kestra-user/"
                "--kestra-password or --kestra-token." % self.connection.url, response
            )
        raise KestraApiError(
            "Kestra answered %s %s with HTTP %d: %s"
            % (method, path, response.status_code, _error_text(response)), response
        )


def descendants_of(execution_id, executions):
    """Those of `executions` whose `parentId` links lead to `execution_id`, in their order."""
    parent_of = {item["id"]: item.get("parentId") for item in executions}
    under = {execution_id}
    for item in executions:
        chain, current = [], item["id"]
        while current in parent_of and current not in under and current not in chain:
            chain.append(current)
            current = parent_of[current]
        if current in under:
            under.update(chain)
    return [item for item in executions if item["id"] in under and item["id"] != execution_id]


def _warn(text):
    import sys

    print(text, file=sys.stderr)


def _label(execution, key):
    for label in execution.get("labels") or []:
        if label.get("key") == key:
            return label.get("value")
    return None


def _flow_not_found(namespace, flow_id):
    return ("Kestra has no flow %s in namespace %s. Deploy it first with `%s` (or check "
            "--kestra-namespace / --flow-id)." % (flow_id, namespace, flow_command("kestra create")))


def unfinished_tasks(execution, expected=()):
    """Task ids of the execution still to end: its task runs not ended, and the `expected` tasks
    (afterExecution ones) that have no task run yet."""
    runs = execution.get("taskRunList") or ()
    working = {run["taskId"] for run in runs if run["state"]["current"] in states.WORKING}
    return sorted(working | (set(expected) - {run["taskId"] for run in runs}))


def poll_interval(elapsed):
    """Seconds between two reads of a run `elapsed` seconds old: 0.05 for its first 2 s, 0.1 to
    5 s, 0.25 to 30 s, then 0.5. A read costs the server a few milliseconds; a small flow's run
    lasts under a second, and waiting half a second more to notice its end was half of it (issue 30)."""
    if elapsed < 2:
        return 0.05
    if elapsed < 5:
        return 0.1
    return 0.25 if elapsed < 30 else 0.5


def _execution_not_found(execution_id):
    return "Kestra has no execution %s. Check the run id (kestra-<execution id>)." % execution_id


def _kestra_error_body(response):
    """Whether the body is a JSON error as Kestra's web server writes them ({"message": ...})."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "message" in body


def _error_text(response):
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or "(empty body, %s)" % (response.reason or "no reason given")
    if isinstance(body, dict):
        return body.get("message") or str(body)[:500]
    return str(body)[:500]

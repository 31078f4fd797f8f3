#!/usr/bin/env bash
# The main job on a fresh machine: set up, start a local Kestra, run the
# example flow on it end to end, and show how to read its results.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage="usage: bash scripts/demo.sh [--port PORT]   (the API on PORT, default 8080; health on PORT+1)"
port="${METAFLOW_KESTRA_DEMO_PORT:-8080}"
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="${2:?$usage}"; shift 2 ;;
        --port=*) port="${1#--port=}"; shift ;;
        -h|--help) echo "$usage"; exit 0 ;;
        *) echo "demo.sh: unknown argument '$1'. $usage" >&2; exit 2 ;;
    esac
done
case "$port" in ''|*[!0-9]*) echo "demo.sh: --port must be a number, not '$port'. $usage" >&2; exit 2 ;; esac
source "$root/scripts/bootstrap.sh"
metaflow-kestra server start --port "$port" --management-port "$((port + 1))"
export METAFLOW_KESTRA_HOST="http://127.0.0.1:$port"   # its own credentials come with it
metaflow-kestra smoke
workdir="${METAFLOW_KESTRA_DEMO_DIR:-$root/.demo}"
mkdir -p "$workdir"
cd "$workdir"   # the local Metaflow datastore (.metaflow) lives here
python "$root/examples/quickstart_flow.py" kestra run --wait --run-id-file run-id
run_id="$(cat run-id)"
python - "$run_id" <<'PY'
import sys
from metaflow import Run, namespace
namespace(None)
run = Run("QuickstartFlow/%s" % sys.argv[1])
print("Metaflow run %s: successful=%s, best setting %s, best score %s"
      % (run.pathspec, run.successful, run.data.best_setting, run.data.best_score))
PY
metaflow-kestra server status --port "$port"
python - "$port" <<'PY'
import json, subprocess, sys
status = json.loads(subprocess.run(["metaflow-kestra", "server", "status", "--port", sys.argv[1], "--json"],
                                   capture_output=True, text=True).stdout)
print("Kestra's REST API: %s (user %s, password in %s; stop it with: metaflow-kestra server stop --port %s)"
      % (status["api_url"], status["username"], status["password_file"], status["port"]))
if status["ui_url"]:
    print("Kestra's UI: %s (sign in as %s with the password in %s)"
          % (status["ui_url"], status["username"], status["password_file"]))
else:
    print("Kestra's UI: none; the server's log says why (metaflow-kestra server logs --port %s)" % status["port"])
PY

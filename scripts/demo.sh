#!/usr/bin/env bash
# The main job on a fresh machine: set up, start a local Kestra, run the
# example flow on it end to end, and show how to read its results.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
metaflow-kestra server start
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
metaflow-kestra server status
echo "Kestra's REST API: $(metaflow-kestra server status 2>/dev/null | grep -o 'http://[^ ]*' | head -1)" \
     "(user admin@metaflow-kestra.dev, password Metaflow-Kestra-1; stop it with: metaflow-kestra server stop)"

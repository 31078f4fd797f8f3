#!/usr/bin/env bash
# Steps in containers on this machine, end to end (README: "Steps in containers"): a Docker engine
# (Debian's docker.io, as root), an S3 server on loopback (moto, from the dev extras), a local Kestra
# that has the S3 credentials as Kestra secrets, a worker image built from Debian's packages, and
# examples/quickstart_flow.py run with each step in its own container, its result read back.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage="usage: bash scripts/demo-containers.sh [--port PORT]   (the local Kestra's API on PORT, default 8080)"
port="${METAFLOW_KESTRA_DEMO_PORT:-8080}"
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="${2:?$usage}"; shift 2 ;;
        --port=*) port="${1#--port=}"; shift ;;
        -h|--help) echo "$usage"; exit 0 ;;
        *) echo "demo-containers.sh: unknown argument '$1'. $usage" >&2; exit 2 ;;
    esac
done
case "$port" in ''|*[!0-9]*) echo "demo-containers.sh: --port must be a number, not '$port'. $usage" >&2; exit 2 ;; esac
source "$root/scripts/bootstrap.sh"
source "$root/scripts/docker.sh"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
    || { echo "demo-containers.sh: no Docker engine answers, and this script could not start one (it needs root)." >&2; exit 1; }

workdir="${METAFLOW_KESTRA_DEMO_DIR:-$root/.demo-containers}"
mkdir -p "$workdir"
chmod 700 "$workdir"
cd "$workdir"   # the local Metaflow metadata (.metaflow) lives here; the containers mount it

# An S3 server on loopback, for as long as you want to read the run (its data lives in its memory).
s3_port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
nohup moto_server -H 127.0.0.1 -p "$s3_port" > "$workdir/s3.log" 2>&1 &
s3_pid=$!
# moto checks no credentials: these only have to be the same here and in Kestra's secrets, so they are
# drawn once and kept in a file only you can read (never on a command line), with the S3 settings.
credentials="$workdir/credentials.env"
if [ ! -s "$credentials" ]; then
    (umask 077; python -c 'import secrets; print("AWS_ACCESS_KEY_ID=demo-%s\nAWS_SECRET_ACCESS_KEY=%s"
                                                  % (secrets.token_hex(8), secrets.token_hex(16)))' > "$credentials")
fi
set -a; source "$credentials"; set +a
export AWS_DEFAULT_REGION=us-east-1
export METAFLOW_S3_ENDPOINT_URL="http://127.0.0.1:$s3_port" METAFLOW_DATASTORE_SYSROOT_S3="s3://metaflow-demo/metaflow"
(umask 077; {
    echo "# source this file to read the run with Metaflow's client (in $workdir, while the S3 server runs)"
    sed 's/^/export /' "$credentials"
    echo "export AWS_DEFAULT_REGION=us-east-1 METAFLOW_S3_ENDPOINT_URL=$METAFLOW_S3_ENDPOINT_URL"
    echo "export METAFLOW_DATASTORE_SYSROOT_S3=$METAFLOW_DATASTORE_SYSROOT_S3 METAFLOW_KESTRA_HOST=http://127.0.0.1:$port"
    echo "export METAFLOW_USER=$METAFLOW_USER PATH=\"$(dirname "$(command -v python)"):\$PATH\""
} > "$workdir/s3.env")
python - <<'PY'
import os, time, boto3
for _ in range(100):
    try:
        boto3.client("s3", endpoint_url=os.environ["METAFLOW_S3_ENDPOINT_URL"]).create_bucket(Bucket="metaflow-demo")
        break
    except Exception:
        time.sleep(0.1)
else:
    raise SystemExit("demo-containers.sh: the S3 server on %s did not answer" % os.environ["METAFLOW_S3_ENDPOINT_URL"])
PY

# Kestra gets the credentials as its secrets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (only the names
# go on the command line); a server already running on this port without them says to restart it.
metaflow-kestra server start --port "$port" --management-port "$((port + 1))" \
    --secret AWS_ACCESS_KEY_ID --secret AWS_SECRET_ACCESS_KEY
export METAFLOW_KESTRA_HOST="http://127.0.0.1:$port"

image="metaflow-kestra-demo:latest"
metaflow-kestra image build --tag "$image"

python "$root/examples/quickstart_flow.py" --datastore=s3 kestra --flow-id quickstartflow-in-containers \
    run --wait --run-id-file run-id --task-runner docker --image "$image" --docker-network host \
    --secret AWS_ACCESS_KEY_ID --secret AWS_SECRET_ACCESS_KEY
python - "$(cat run-id)" <<'PY'
import sys
from metaflow import Run, namespace
namespace(None)
run = Run("QuickstartFlow/%s" % sys.argv[1])
print("Metaflow run %s: successful=%s, best setting %s, best score %s; its start step ran on Python %s "
      "(the image's Debian Python)." % (run.pathspec, run.successful, run.data.best_setting, run.data.best_score,
                                        run["start"].task.metadata_dict.get("python_version")))
PY
cat <<EOF
Each step ran in a container of $image. The run's data is on the S3 server on 127.0.0.1:$s3_port (pid $s3_pid),
in its memory; stop that server with: kill $s3_pid. To read the run in another shell meanwhile:
  cd $workdir && source s3.env && python -c "from metaflow import Run, namespace; namespace(None); print(Run('QuickstartFlow/\$(cat run-id)').data.best_score)"
The local Kestra keeps running on port $port: metaflow-kestra server stop --port $port
EOF

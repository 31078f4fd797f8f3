#!/usr/bin/env bash
# The main job on the embedded default: start a local Kestra, then run the
# smoke flow on it and print what the task reported.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
metaflow-kestra server start
metaflow-kestra smoke

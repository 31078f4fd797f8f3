#!/usr/bin/env bash
# The whole test suite, end-to-end tests included (they start a real local
# Kestra once per run). Works on a fresh machine: installs what it needs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
cd "$root"
exec python -m pytest -ra "$@"

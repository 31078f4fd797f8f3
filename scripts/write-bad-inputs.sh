#!/usr/bin/env bash
# Writes docs/bad-inputs.md: runs tests/e2e/test_bad_inputs.py on the real local Kestra (started by the
# test session, as in scripts/test.sh) and records every bad input's exit code and message line.
# A plain test run writes nothing. Arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
cd "$root"
METAFLOW_KESTRA_BAD_INPUTS_DOC="$root/docs/bad-inputs.md" python -m pytest -q tests/e2e/test_bad_inputs.py "$@"
echo "Wrote $root/docs/bad-inputs.md"

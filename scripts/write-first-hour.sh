#!/usr/bin/env bash
# Writes docs/first-hour.md: runs tests/e2e/test_first_hour.py, which follows the README and the guide
# from a fresh clone of this repository's HEAD on a port other than 8080, and records each step.
# A plain test run writes nothing (it checks the page's steps still hold). Arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
cd "$root"
METAFLOW_KESTRA_FIRST_HOUR_DOC="$root/docs/first-hour.md" python -m pytest -q tests/e2e/test_first_hour.py "$@"
echo "Wrote $root/docs/first-hour.md"

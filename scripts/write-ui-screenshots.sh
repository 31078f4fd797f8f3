#!/usr/bin/env bash
# Writes docs/ui/kestra-1.3/*.png and docs/ui/kestra-2.0/*.png: the browser tests of the web UI
# (tests/e2e/test_web_ui.py) on each Kestra line, saving each view as they check it.
# A plain test run writes nothing. Arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
cd "$root"
METAFLOW_KESTRA_UI_SCREENSHOTS="$root/docs/ui/kestra-1.3" \
    python -m pytest -q tests/e2e/test_web_ui.py "$@"
METAFLOW_KESTRA_VERSION="${METAFLOW_KESTRA_TEST_VERSION_2:-2.0.0}" \
    METAFLOW_KESTRA_TEST_PORT=18090 METAFLOW_KESTRA_TEST_MANAGEMENT_PORT=18091 \
    METAFLOW_KESTRA_UI_SCREENSHOTS="$root/docs/ui/kestra-2.0" \
    python -m pytest -q tests/e2e/test_web_ui.py "$@"
echo "Wrote $root/docs/ui/kestra-1.3 and $root/docs/ui/kestra-2.0"

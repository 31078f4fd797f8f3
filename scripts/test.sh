#!/usr/bin/env bash
# The whole test suite, end-to-end tests included (they start a real local
# Kestra once per run). Works on a fresh machine: installs what it needs.
#
# With no arguments it runs twice: every test on Kestra 1.3 (the LTS line),
# then the end-to-end suites marked `both_lines` again on Kestra 2.0
# (METAFLOW_KESTRA_TEST_VERSION_2, default 2.0.0), on a server of that version
# on port 18090. Arguments are passed to a single pytest run instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
source "$root/scripts/browser.sh"
source "$root/scripts/docker.sh"
cd "$root"
if [ "$#" -gt 0 ]; then
    exec python -m pytest -ra "$@"
fi
status=0
echo "=== pass 1: the whole suite on Kestra ${METAFLOW_KESTRA_VERSION:-1.3 (the default)}"
python -m pytest -ra --durations=20 || status=$?  # the slowest 20: keep CI inside its limit
version_2="${METAFLOW_KESTRA_TEST_VERSION_2:-2.0.0}"
echo "=== pass 2: the both_lines end-to-end suites on Kestra $version_2"
METAFLOW_KESTRA_VERSION="$version_2" METAFLOW_KESTRA_TEST_PORT=18090 METAFLOW_KESTRA_TEST_MANAGEMENT_PORT=18091 \
    python -m pytest -ra --durations=10 -m "both_lines and not official_ui" tests/e2e || status=$?
exit $status

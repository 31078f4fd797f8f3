#!/usr/bin/env bash
# Install what the browser test needs (Debian's Chromium, Playwright for Python driving it),
# but only where a Kestra server can be had: without one the test has nothing to look at.
# Sourced by .ci/run after bootstrap.sh. Never downloads a browser from the network besides Debian's.
set -uo pipefail
if ! python -c "from metaflow_kestra.local_server.server import LocalServer; \
from metaflow_kestra.local_server.settings import ServerSettings; \
LocalServer(ServerSettings.from_environment()).kestra_jar()" >/dev/null 2>&1; then
    echo "browser test: no Kestra server obtainable here, so Chromium is not installed (the test skips)."
    return 0 2>/dev/null || exit 0
fi
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || echo "browser test: could not install Debian's chromium (the test will skip)."
fi
python -m pip install --quiet "playwright>=1.40" || echo "browser test: could not install playwright."

#!/usr/bin/env bash
# Install what the UI browser test needs (Debian's Chromium, Playwright for Python driving it).
# The test looks at Kestra's UI, which only the official Kestra JAR serves: run it with
#   METAFLOW_KESTRA_JAR=/path/kestra.jar bash scripts/browser.sh && pytest -m official_ui
# Never downloads a browser from the network besides Debian's.
set -uo pipefail
if [ -z "${METAFLOW_KESTRA_JAR:-}" ]; then
    echo "browser test: METAFLOW_KESTRA_JAR is not set; the local server has no UI to look at."
    return 0 2>/dev/null || exit 0
fi
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || echo "browser test: could not install Debian's chromium (the test will skip)."
fi
python -m pip install --quiet "playwright>=1.40" || echo "browser test: could not install playwright."

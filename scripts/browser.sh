#!/usr/bin/env bash
# Debian's Chromium for the web UI's browser tests (tests/e2e/test_web_ui.py), which drive it with
# Playwright for Python (a dev extra). Never downloads a browser from anywhere but Debian.
# Sourced by scripts/test.sh; does nothing where /usr/bin/chromium exists.
if [ ! -x /usr/bin/chromium ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "Installing Debian's chromium for the browser tests..."
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
            || echo "browser tests: could not install Debian's chromium; they will fail naming it." >&2
    else
        echo "browser tests: no /usr/bin/chromium; install Debian's chromium (apt-get install chromium)." >&2
    fi
fi

#!/usr/bin/env bash
# Create .venv (once) and install this package with its dev extras into it.
# Sourced by the other scripts; idempotent and quiet on a second run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${METAFLOW_KESTRA_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
stamp="$venv/.installed-$(cat "$root/pyproject.toml" | cksum | cut -d' ' -f1)"
if [ ! -e "$stamp" ]; then
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e "$root[dev]"
    touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
# Metaflow needs a user name, and refuses "root" unless it comes from
# METAFLOW_USER: settle it here, whether USER is unset (CI) or root.
if [ -z "${METAFLOW_USER:-}" ]; then
    METAFLOW_USER="${USER:-$(id -un)}"
    [ "$METAFLOW_USER" = "root" ] && METAFLOW_USER=metaflow-kestra
    export METAFLOW_USER
fi

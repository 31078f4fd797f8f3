#!/usr/bin/env bash
# A Docker engine for the container tests (tests/e2e/test_containers_on_kestra.py): Debian's
# docker.io and debootstrap (the worker image's base is built from Debian's packages; no image
# is pulled), and a running dockerd. Sourced by scripts/test.sh; does nothing where an engine answers.
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
            echo "Installing Debian's docker.io and debootstrap for the container tests..."
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null; } \
                || echo "container tests: could not install docker.io; they will fail naming it." >&2
        fi
        if command -v dockerd >/dev/null; then
            echo "Starting dockerd for the container tests (log: /var/log/metaflow-kestra-dockerd.log)..."
            (umask 077; nohup dockerd >/var/log/metaflow-kestra-dockerd.log 2>&1 &)
            for _ in $(seq 1 60); do
                docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
                sleep 1
            done
        fi
    else
        echo "container tests: no Docker engine answers; start one (dockerd) as root." >&2
    fi
fi

#!/usr/bin/env bash
# The workspace's tests, with nextest when it is installed.
set -euo pipefail
if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --no-fail-fast "$@"
else
    exec cargo test --workspace --no-fail-fast "$@"
fi

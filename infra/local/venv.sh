#!/usr/bin/env bash
# Creates .venv and installs the local stack's pinned packages into it
# (moto server, cargo-lambda with zig). Re-runs only when the pins change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
REQ="$ROOT/infra/local/requirements.txt"
LOCK="$ROOT/infra/local/requirements.lock"
STAMP="$VENV/.installed-$(cat "$REQ" "$LOCK" | sha256sum | cut -c1-16)"

if [ -f "$STAMP" ]; then
    exit 0
fi
PYTHON="${PYTHON:-python3}"
echo "==> installing the local stack into .venv (moto server, cargo-lambda)" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" -c "$LOCK"
rm -f "$VENV"/.installed-*
touch "$STAMP"

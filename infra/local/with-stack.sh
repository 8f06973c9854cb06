#!/usr/bin/env bash
# Runs a command against a private local stack (its own moto, its own
# state directory), then stops it whatever the command's outcome.
# Usage: infra/local/with-stack.sh COMMAND [ARGS...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$(mktemp -d "${TMPDIR:-/tmp}/support-plans-stack.XXXXXX")"
export LOCAL_DIR
trap '"$ROOT/infra/local/down.sh" >/dev/null 2>&1 || true; rm -rf "$LOCAL_DIR"' EXIT
"$ROOT/infra/local/up.sh"
# shellcheck disable=SC1091
. "$LOCAL_DIR/env"
"$@"

#!/usr/bin/env bash
# make demo: the story, locally. Starts a private local stack (moto, the
# Incident Manager emulator, the PagerDuty stand-in, the functions under cargo
# lambda watch), then infra/local/demo.py tells the story against it, ending
# with the readiness chart (target/demo/readiness.svg), and everything is
# stopped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$(mktemp -d "${TMPDIR:-/tmp}/support-plans-demo.XXXXXX")"
export LOCAL_DIR
trap '"$ROOT/infra/local/down.sh" >/dev/null 2>&1 || true; rm -rf "$LOCAL_DIR"' EXIT
bold() { if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
started=$SECONDS

bold "1. Starting the local stack: moto (DynamoDB, SNS, SQS, Secrets Manager), the Incident Manager emulator, the PagerDuty stand-in, the four functions under cargo lambda watch"
echo "(the first run builds the workspace; later runs start in seconds)"
"$ROOT/infra/local/up.sh"
cargo build --quiet -p support-plans   # the plans-as-code command the story applies the samples with
# shellcheck disable=SC1091
. "$LOCAL_DIR/env"

"$ROOT/.venv/bin/python" -u "$ROOT/infra/local/demo.py"

bold "17. Stopping the local stack"
"$ROOT/infra/local/down.sh"
echo "everything stopped; the story took $((SECONDS - started)) s"
echo "the readiness chart: target/demo/readiness.svg (open it in a browser)"

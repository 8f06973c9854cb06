#!/usr/bin/env bash
# make demo: the story, locally. Starts a private local stack, loads the
# sample plans and workloads, shows what each workload relies on and what has
# gone stale, and stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$(mktemp -d "${TMPDIR:-/tmp}/support-plans-demo.XXXXXX")"
export LOCAL_DIR
trap '"$ROOT/infra/local/down.sh" >/dev/null 2>&1 || true; rm -rf "$LOCAL_DIR"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Starting the local stack (moto server; the table from template.yaml)"
SEED=1 "$ROOT/infra/local/up.sh"
# shellcheck disable=SC1091
. "$LOCAL_DIR/env"

step "2. What the table holds: each workload, the vendor plans it relies on, and what is stale"
echo "(the samples in infra/local/samples, aged by seed.json; 'due soon' = within 14 days)"
"$ROOT/target/debug/local-stack" report --table "$TABLE_NAME"

step "3. Stopping the local stack"
"$ROOT/infra/local/down.sh"

#!/usr/bin/env bash
# The 10,000-plan part of `make bench`, in one local stack (run it under
# infra/local/with-stack.sh): the scale example loads the stack's own table
# with BatchWriteItem and times its phases in process (its last stdout line:
# freshness.json); then `bench scale` times GET /readiness at that size and
# the freshness-check process's dry runs (scale.json). SCALE_PLANS (for the
# example) sets the size; the bars are judged at 10,000.
# Usage: scale.sh BENCH OUT_DIR RESULTS_DIR [bench scale options] -- EXAMPLE [ARGS...]
set -euo pipefail
bench="$1" out="$2" results="$3"
shift 3
options=()
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    options+=("$1")
    shift
done
[ "$#" -gt 1 ] || { echo "scale.sh: no example after --" >&2; exit 2; }
shift
echo "==> the scale example: ${SCALE_PLANS:-10000} plans into the stack's table, its phases in process" >&2
"$@" --stack-table >"$out/scale.out"
"$bench" last-json <"$out/scale.out" >"$results/freshness.json"
"$bench" scale --out "$results/scale.json" "${options[@]}"

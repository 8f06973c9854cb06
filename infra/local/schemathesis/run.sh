#!/usr/bin/env bash
# Schemathesis against the running local API (source .local/env first):
# requests generated from /openapi.json, checked for 5xx and for responses
# that break the document. Fails under MIN_REQUESTS generated cases.
set -euo pipefail
: "${API_URL:?source .local/env first (make local-up)}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
MIN_REQUESTS="${MIN_REQUESTS:-500}"
OUT="$(mktemp)"
REPLAYS="$(mktemp)"
trap 'rm -f "$OUT" "$REPLAYS"' EXIT
export ST_PRINCIPAL='schemathesis@example.com' ST_GROUPS='support-plans-admins' ST_REPLAYS="$REPLAYS"
set +e
# --request-retries 1: a connection that cargo lambda watch drops (a
# "Network Error", seen twice in CI runs of an unchanged API and never
# reproduced) is tried once more; every answer is still judged. When one
# stays an error, its request and the end of the functions' log are printed.
# function_status_is_documented_and_not_5xx (hooks.py) stands in for
# not_a_server_error and status_code_conformance: the same two rules, applied
# to the function's answer rather than to a 500 of cargo lambda watch itself.
SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$ROOT/infra/local/schemathesis" \
    "$ROOT/.venv/bin/schemathesis" run "$API_URL/openapi.json" --url "$API_URL" \
    -H "x-local-principal: $ST_PRINCIPAL" -H "x-local-groups: $ST_GROUPS" \
    --checks function_status_is_documented_and_not_5xx,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --max-examples "${MAX_EXAMPLES:-30}" --seed "${SEED:-20261121}" --workers 1 --no-color \
    --request-retries 1 \
    --generation-database none >"$OUT" 2>&1
status=$?
set -e
sed -n '/SUMMARY/,$p' "$OUT"
if [ "$status" -ne 0 ]; then
    if grep -q SUMMARY "$OUT"; then
        sed -n '/ERRORS/,/SUMMARY/p; /FAILURES/,/SUMMARY/p' "$OUT" | head -200
        if [ -n "${LOCAL_DIR:-}" ] && [ -f "$LOCAL_DIR/functions.log" ]; then
            echo "the end of the functions' log ($LOCAL_DIR/functions.log):"
            tail -n 40 "$LOCAL_DIR/functions.log"
        fi
    else
        # It stopped before its summary (could not load the document, crashed): its own words.
        echo "schemathesis exited $status without a summary; the end of its output:"
        tail -n 60 "$OUT"
    fi
    echo "schemathesis: 0 passed, 1 failed"
    exit 1
fi
generated="$(grep -oE '[0-9]+ generated' "$OUT" | head -1 | cut -d' ' -f1)"
if [ -z "$generated" ] || [ "$generated" -lt "$MIN_REQUESTS" ]; then
    echo "schemathesis generated ${generated:-no} requests, fewer than $MIN_REQUESTS" >&2
    echo "schemathesis: 0 passed, 1 failed"
    exit 1
fi
if [ -s "$REPLAYS" ]; then
    echo "cargo lambda watch answered 500 itself $(wc -l <"$REPLAYS") time(s); replayed:"
    cat "$REPLAYS"
fi
echo "schemathesis: $generated requests, no 5xx, no response outside the document"
echo "schemathesis: 1 passed, 0 failed"

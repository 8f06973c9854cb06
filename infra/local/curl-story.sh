#!/usr/bin/env bash
# The README's curl calls against a running local stack (source .local/env
# first): create, read, replace with If-Match, retire. Fails on any surprise.
set -euo pipefail
: "${API_URL:?source .local/env first (make local-up)}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ID="curl-demo-$$"
# Locally the caller comes from these headers (LOCAL_AUTH=1, set only by the local stack).
AS=(-H "x-local-principal: dana@example.com" -H "x-local-groups: platform")
body="$(sed "s/\"id\": \"aws-business\"/\"id\": \"$ID\"/" "$ROOT/infra/local/samples/plans/aws-business.json")"
expect() { # expect STATUS CURL-ARGS...: runs curl, prints the body, checks the status
    local want="$1"; shift
    local out status
    out="$(curl -sS -w '\n%{http_code}' "$@")"
    status="${out##*$'\n'}"
    [ "$status" = "$want" ] || { echo "expected $want, got $status: ${out%$'\n'*}" >&2; exit 1; }
    printf '%s\n' "${out%$'\n'*}"
}
etag() { curl -sS -o /dev/null -D - "$@" | tr -d '\r' | awk 'tolower($1)=="etag:" {print $2}'; }

echo "--- create"
expect 201 "${AS[@]}" -X POST "$API_URL/plans" -H 'content-type: application/json' -d "$body" >/dev/null
echo "--- read"
tag="$(etag "${AS[@]}" "$API_URL/plans/$ID")"
[ "$tag" = '"1"' ] || { echo "expected ETag \"1\", got $tag" >&2; exit 1; }
expect 200 "${AS[@]}" "$API_URL/plans/$ID" >/dev/null
echo "--- replace without If-Match: refused"
expect 428 "${AS[@]}" -X PUT "$API_URL/plans/$ID" -H 'content-type: application/json' -d "$body" >/dev/null
echo "--- replace with If-Match"
expect 200 "${AS[@]}" -X PUT "$API_URL/plans/$ID" -H "if-match: $tag" -H 'content-type: application/json' \
    -d "${body/\"Business\"/\"Enterprise On-Ramp\"}" >/dev/null
echo "--- replace again with the old ETag: stale"
expect 412 "${AS[@]}" -X PUT "$API_URL/plans/$ID" -H "if-match: $tag" -H 'content-type: application/json' -d "$body" >/dev/null
echo "--- retire"
tag="$(etag "${AS[@]}" "$API_URL/plans/$ID")"
expect 200 "${AS[@]}" -X DELETE "$API_URL/plans/$ID" -H "if-match: $tag" | grep -q '"status":"retired"'
echo "curl story: 6 passed, 0 failed"

#!/usr/bin/env bash
# The README's PagerDuty and generic-webhook calls against a running local
# stack with the samples loaded (source .local/env first): a PagerDuty
# incident created on the stand-in gets its notes with no other call; a
# generic incident signed with curl + openssl (Standard Webhooks) is accepted
# once and its replay refused; an unsigned one is refused. Fails on any surprise.
set -euo pipefail
: "${HOOKS_URL:?source .local/env first (make local-seed)}"
: "${PAGERDUTY_URL:?}" "${PAGERDUTY_TOKEN:?}" "${INCIDENT_WEBHOOK_SECRET:?}"
expect() { # expect STATUS CURL-ARGS...: runs curl, prints the body, checks the status
    local want="$1"; shift
    local out status
    out="$(curl -sS -w '\n%{http_code}' "$@")"
    status="${out##*$'\n'}"
    [ "$status" = "$want" ] || { echo "expected $want, got $status: ${out%$'\n'*}" >&2; exit 1; }
    printf '%s\n' "${out%$'\n'*}"
}
json() { python3 -c 'import json, sys; print(eval("json.load(sys.stdin)" + sys.argv[1]))' "$1"; }

# PagerDuty: the calls a responder's tooling makes; the webhook follows by itself.
PD=(-H "Authorization: Token token=$PAGERDUTY_TOKEN" -H "Accept: application/vnd.pagerduty+json;version=2"
    -H "Content-Type: application/json" -H "From: oncall-lead@example.com")
echo "--- PagerDuty: a service the checkout-web workload names, and an incident on it"
service="$(expect 201 "${PD[@]}" -X POST "$PAGERDUTY_URL/services" \
    -d '{"service": {"type": "service", "name": "Checkout Web"}}' | json '["service"]["id"]')"
incident="$(expect 201 "${PD[@]}" -X POST "$PAGERDUTY_URL/incidents" -d "{\"incident\": {\"type\": \"incident\",
    \"title\": \"Elevated 5xx on the web front end\", \"urgency\": \"high\",
    \"service\": {\"id\": \"$service\", \"type\": \"service_reference\"}}}" | json '["incident"]["id"]')"
notes=0
for _ in $(seq 1 600); do
    notes="$(expect 200 "${PD[@]}" "$PAGERDUTY_URL/incidents/$incident/notes" | json '["notes"].__len__()')"
    [ "$notes" -ge 4 ] && break
    sleep 0.2
done
# One note per plan of checkout-web (3), and the AWS Support case aws-business
# opens at impact 2 (urgency high) with its id.
[ "$notes" = 4 ] || { echo "expected 4 notes on $incident (one per plan of checkout-web and the AWS case), got $notes" >&2; exit 1; }
echo "    $notes notes on PagerDuty incident $incident (3 plans, 1 AWS Support case)"

# The generic webhook, signed as the README shows (Standard Webhooks).
echo "--- generic webhook: signed with openssl, accepted once"
body='{"id": "INC-4711", "title": "Checkout errors", "impact": 2, "workload": "checkout-web", "url": "https://incidents.example.com/INC-4711"}'
id="msg_$(openssl rand -hex 12)"
ts="$(date +%s)"
key="$(printf '%s' "${INCIDENT_WEBHOOK_SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')"
sig="$(printf '%s.%s.%s' "$id" "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)"
SIGNED=(-H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" -H 'content-type: application/json')
expect 202 -X POST "$HOOKS_URL/hooks/incident" "${SIGNED[@]}" -d "$body" >/dev/null
echo "--- the same delivery again: refused as a replay"
expect 409 -X POST "$HOOKS_URL/hooks/incident" "${SIGNED[@]}" -d "$body" >/dev/null
echo "--- unsigned: refused"
expect 401 -X POST "$HOOKS_URL/hooks/incident" -H "webhook-id: $id-2" -H "webhook-timestamp: $ts" \
    -H 'content-type: application/json' -d "$body" >/dev/null
echo "webhook story: 4 passed, 0 failed"

#!/usr/bin/env bash
# The local contract: `make local-up` gives a table the SDK can list through
# .local/env, and `make local-down` leaves no process of it behind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$(mktemp -d "${TMPDIR:-/tmp}/support-plans-up.XXXXXX")"
export LOCAL_DIR
trap 'make -s -C "$ROOT" local-down >/dev/null 2>&1 || true; rm -rf "$LOCAL_DIR"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The functions log at TRACE throughout, so the last check can look for
# anything secret in what they printed.
FUNCTION_LOG=trace make -s -C "$ROOT" local-up
[ -f "$LOCAL_DIR/env" ] || fail "local-up wrote no env file"
for var in AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY TABLE_NAME API_URL LAMBDA_ENDPOINT \
    REMINDER_TOPIC_ARN ESCALATION_TOPIC_ARN REMINDER_QUEUE_URL ESCALATION_QUEUE_URL VERIFY_KEY_SECRET_ARN \
    AWS_ENDPOINT_URL_SSM_INCIDENTS INCIDENT_TOPIC_ARN INCIDENT_QUEUE_URL \
    PAGERDUTY_URL PAGERDUTY_TOKEN PAGERDUTY_WEBHOOK_SECRET INCIDENT_WEBHOOK_SECRET HOOKS_URL; do
    grep -q "^export $var=" "$LOCAL_DIR/env" || fail "env file lacks $var"
done
pids="$(cat "$LOCAL_DIR"/*.pid)"
tables="$( (. "$LOCAL_DIR/env" && "$ROOT/target/debug/local-stack" list-tables) )"
table="$( (. "$LOCAL_DIR/env" && echo "$TABLE_NAME") )"
echo "$tables" | grep -qx "$table" || fail "table $table not listed while up (got: $tables)"
endpoint="$( (. "$LOCAL_DIR/env" && echo "$AWS_ENDPOINT_URL") )"
api="$( (. "$LOCAL_DIR/env" && echo "$API_URL") )"
# The README's curl story against the API under cargo lambda watch.
(. "$LOCAL_DIR/env" && "$ROOT/infra/local/curl-story.sh") || fail "the curl story against API_URL failed"
# The freshness check under cargo lambda watch: reminders through SNS to SQS, one-click links.
(. "$LOCAL_DIR/env" && "$ROOT/.venv/bin/python" "$ROOT/infra/local/freshness_story.py") \
    || fail "the freshness story failed"
# An incident started with the SDK gets its vendor steps with no other command:
# the emulator delivers the event to the responder under cargo lambda watch.
(. "$LOCAL_DIR/env" && "$ROOT/target/debug/local-stack" seed --table "$TABLE_NAME" \
    && "$ROOT/.venv/bin/python" "$ROOT/infra/local/incident_story.py") || fail "the incident story failed"
# The README's PagerDuty and signed-webhook calls: the stand-in delivers its
# webhook to the incident-hooks function, which hands it to the responder.
(. "$LOCAL_DIR/env" && "$ROOT/infra/local/webhook-story.sh") || fail "the webhook story failed"
# Nothing secret in the functions' logs at TRACE: credentials, keys, tokens, links.
(. "$LOCAL_DIR/env" && "$ROOT/.venv/bin/python" "$ROOT/infra/local/secrets_in_logs.py") \
    || fail "a secret reached the functions' logs"

make -s -C "$ROOT" local-down
for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then fail "process $pid still running after local-down"; fi
    if pgrep -g "$pid" >/dev/null 2>&1; then fail "process group $pid still has members after local-down"; fi
done
if "$ROOT/.venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$endpoint" 2>/dev/null; then
    fail "$endpoint still answers after local-down"
fi
if "$ROOT/.venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$api/openapi.json" 2>/dev/null; then
    fail "$api still answers after local-down"
fi
[ ! -e "$LOCAL_DIR/env" ] || fail "env file left after local-down"
echo "local stack: 1 passed, 0 failed"

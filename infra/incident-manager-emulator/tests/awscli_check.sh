#!/usr/bin/env bash
# The unmodified AWS CLI (v1, PyPI awscli, in .venv-awscli) against the
# emulator binary on a free loopback port: the `aws ssm-incidents` commands a
# responder runs by hand, each answer checked; then the emulator is stopped.
# The emulator is started as the local stack starts it, with template.yaml's
# runbook, so the check also reads the payload that runbook renders.
# Fails on the first command that fails or answers wrong (make test runs it).
#
#   usage: awscli_check.sh [PATH-TO-incident-manager-emulator]
#   default binary: ${CARGO_TARGET_DIR:-$ROOT/target}/debug/incident-manager-emulator
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
"$ROOT/infra/local/venv.sh" awscli
AWS="$ROOT/.venv-awscli/bin/aws"
PY="$ROOT/.venv-awscli/bin/python"

# shellcheck source=emulator.sh
. "$HERE/emulator.sh"
emulator_bin awscli_check "${1:-}"

# The runbook target is a port nobody listens on: the rendered payload is
# recorded under /_emulator/deliveries whatever the target does.
CLOSED="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
emulator_start --runbook-template "$ROOT/template.yaml" --runbook-target "http://127.0.0.1:$CLOSED/runbook"
URL="http://127.0.0.1:$PORT"

# Only the emulator and test credentials: no profile, config or real account.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SSM_INCIDENTS

ACCOUNT=111122223333
TABLE="arn:aws:dynamodb:us-east-1:$ACCOUNT:table/orders"
CHAT="arn:aws:sns:us-east-1:$ACCOUNT:chat"
passed=0

fail() {
  echo "awscli_check: FAILED: $*" >&2
  echo "--- emulator log ---" >&2
  cat "$TMP/emulator.log" >&2
  exit 1
}

# im NAME ARGS...: runs `aws ssm-incidents NAME ARGS...`, keeps its JSON answer in $OUT.
im() {
  local name="$1"
  shift
  if ! OUT="$("$AWS" ssm-incidents "$name" --endpoint-url "$URL" --output json "$@" 2>"$TMP/err")"; then
    fail "aws ssm-incidents $name: $(cat "$TMP/err")"
  fi
}

# expect DESCRIPTION PYTHON-EXPRESSION: the expression, over the answer `o`
# (parsed $OUT), must be true.
expect() {
  if ! printf '%s' "$OUT" | "$PY" -c '
import json, sys
o = json.loads(sys.stdin.read() or "null")
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"; then
    fail "$1: $2 is false for: $OUT"
  fi
  passed=$((passed + 1))
}

field() {
  printf '%s' "$OUT" | "$PY" -c 'import json, sys; print(eval(sys.argv[1], {"o": json.load(sys.stdin)}))' "$1"
}

im create-response-plan --name cli-plan --display-name "CLI plan" \
  --incident-template '{"title": "Orders down", "impact": 2, "summary": "Checkout failing"}' \
  --chat-channel "{\"chatbotSns\": [\"$CHAT\"]}" \
  --actions '[{"ssmAutomation": {"documentName": "support-plans-ResponderRunbook", "roleArn": "arn:aws:iam::111122223333:role/support-plans-RunbookRole", "dynamicParameters": {"INCIDENT_RECORD_ARN": {"variable": "INCIDENT_RECORD_ARN"}, "INVOLVED_RESOURCES": {"variable": "INVOLVED_RESOURCES"}}}}]'
expect "create-response-plan returns the plan ARN" "o['arn'] == 'arn:aws:ssm-incidents::$ACCOUNT:response-plan/cli-plan'"
PLAN="$(field "o['arn']")"

im start-incident --response-plan-arn "$PLAN" --impact 1 \
  --related-items "[{\"identifier\": {\"type\": \"INVOLVED_RESOURCE\", \"value\": {\"arn\": \"$TABLE\"}}, \"title\": \"orders table\"}]"
expect "start-incident returns an incident of the plan" "o['incidentRecordArn'].startswith('arn:aws:ssm-incidents::$ACCOUNT:incident-record/cli-plan/')"
INCIDENT="$(field "o['incidentRecordArn']")"

im get-incident-record --arn "$INCIDENT"
expect "get-incident-record: the plan's template, impact overridden" \
  "(o['incidentRecord']['status'], o['incidentRecord']['title'], o['incidentRecord']['impact'], o['incidentRecord']['chatChannel']) == ('OPEN', 'Orders down', 1, {'chatbotSns': ['$CHAT']})"
expect "get-incident-record: one runbook execution" "len(o['incidentRecord']['automationExecutions']) == 1"

im create-timeline-event --incident-record-arn "$INCIDENT" --event-time "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --event-type Note --event-data "Vendor: AWS (Business). Open a Sev-1 case." \
  --event-references "[{\"resource\": \"$INCIDENT\"}]"
expect "create-timeline-event returns the new event's id" "o['incidentRecordArn'] == '$INCIDENT' and len(o['eventId']) > 0"
NOTE="$(field "o['eventId']")"

im list-timeline-events --incident-record-arn "$INCIDENT" --sort-by EVENT_TIME --sort-order ASCENDING
expect "list-timeline-events: the creation event, then the note" \
  "[(e['eventType'], e['eventId'] == '$NOTE') for e in o['eventSummaries']] == [('Custom Event', False), ('Note', True)]"

im list-related-items --incident-record-arn "$INCIDENT"
expect "list-related-items: the involved resource" \
  "[(i['identifier']['type'], i['identifier']['value']) for i in o['relatedItems']] == [('INVOLVED_RESOURCE', {'arn': '$TABLE'})]"

im update-incident-record --arn "$INCIDENT" --status RESOLVED
expect "update-incident-record answers with nothing" "o is None or o == {}"

im list-incident-records --filters '[{"key": "status", "condition": {"equals": {"stringValues": ["RESOLVED"]}}}]'
expect "list-incident-records: the incident, resolved" \
  "[(s['arn'], s['status']) for s in o['incidentRecordSummaries']] == [('$INCIDENT', 'RESOLVED')] and 'resolvedTime' in o['incidentRecordSummaries'][0]"

# A failing call fails the CLI (exit 254/255) with the service's error code.
if "$AWS" ssm-incidents get-incident-record --endpoint-url "$URL" --arn "$INCIDENT-missing" >/dev/null 2>"$TMP/err"; then
  fail "get-incident-record of an unknown ARN succeeded"
fi
grep -q ResourceNotFoundException "$TMP/err" || fail "unknown ARN: $(cat "$TMP/err")"
passed=$((passed + 1))

# The runbook the plan started, as template.yaml renders it.
for _ in $(seq 1 100); do
  OUT="$("$PY" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$URL/_emulator/deliveries")"
  [ "$(field "len(o['deliveries'])")" -ge 1 ] && break
  sleep 0.1
done
expect "the template's runbook payload: the incident ARN and involved_resources as a list" \
  "[d['payload'] for d in o['deliveries'] if d['kind'] == 'runbook'] == [{'incident_record_arn': '$INCIDENT', 'involved_resources': ['$TABLE']}]"

echo "awscli_check: aws-cli $("$AWS" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2): $passed checks passed"

#!/usr/bin/env bash
# make local-up: starts the local stack in the background on free loopback
# ports and writes $LOCAL_DIR/env (default .local/env), `export` lines any
# tool can source. Everything it starts is recorded in $LOCAL_DIR/*.pid so
# that down.sh can stop it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local}"
TABLE_NAME="${TABLE_NAME:-support-plans}"
cd "$ROOT"

if [ -f "$LOCAL_DIR/moto.pid" ] && kill -0 "$(cat "$LOCAL_DIR/moto.pid")" 2>/dev/null; then
    echo "the local stack is already up ($LOCAL_DIR/env); make local-down first" >&2
    exit 1
fi

"$ROOT/infra/local/venv.sh"
export PATH="$ROOT/.venv/bin:$PATH"   # cargo-lambda (and zig) live in the venv
echo "==> building the local-stack tool and the functions" >&2
cargo build --quiet -p local-stack -p incident-manager-emulator -p pagerduty-standin
# Each function as `cargo lambda watch` builds it (`cargo run --bin NAME`, its
# own feature set), so that its first request does not wait for a compile.
# RELEASE=1 (the benchmark): the functions' release build, under watch too.
profile=()
[ "${RELEASE:-0}" = 1 ] && profile=(--release)
for function in plans-api freshness-check incident-responder incident-hooks; do
    cargo build --quiet "${profile[@]}" --bin "$function"
done
mkdir -p "$LOCAL_DIR"
rm -f "$LOCAL_DIR/moto.port" "$LOCAL_DIR/env"

# Own process group (setsid), so down.sh can stop the server and any child.
setsid "$ROOT/.venv/bin/python" "$ROOT/infra/local/moto_server.py" \
    --port-file "$LOCAL_DIR/moto.port" >"$LOCAL_DIR/moto.log" 2>&1 < /dev/null &
echo $! >"$LOCAL_DIR/moto.pid"

for _ in $(seq 1 200); do
    [ -s "$LOCAL_DIR/moto.port" ] && break
    if ! kill -0 "$(cat "$LOCAL_DIR/moto.pid")" 2>/dev/null; then
        echo "moto server failed to start; its log:" >&2
        cat "$LOCAL_DIR/moto.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "$LOCAL_DIR/moto.port" ] || { echo "moto server did not start within 20 s" >&2; exit 1; }
MOTO_PORT="$(cat "$LOCAL_DIR/moto.port")"

# moto accepts any credentials; these are its conventional dummies, not secrets.
cat >"$LOCAL_DIR/env.tmp" <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export TABLE_NAME=$TABLE_NAME
ENV
# shellcheck disable=SC1091
. "$LOCAL_DIR/env.tmp"

echo "==> creating table $TABLE_NAME from template.yaml" >&2
"$ROOT/target/debug/local-stack" create-table --name "$TABLE_NAME"
if [ "${SEED:-0}" = 1 ]; then
    "$ROOT/target/debug/local-stack" seed --table "$TABLE_NAME"
fi
# The functions under cargo lambda watch: the binaries that deploy, served on
# loopback. LOCAL_AUTH=1 is the local identity switch (SPEC §3): only here.
LAMBDA_PORT="$("$ROOT/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$LOCAL_DIR/functions.env" <<ENV
AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
TABLE_NAME=$TABLE_NAME
LOCAL_AUTH=1
ADMIN_GROUPS=support-plans-admins
TEAM_PRINCIPALS=${TEAM_PRINCIPALS:-}
RUST_LOG=${FUNCTION_LOG:-info}
GENERIC_SOURCES=support-plans.incidents,support-plans.webhook
GENERIC_LIMIT_PER_MINUTE=20
ENV
# The freshness check's topics (each with a subscribed SQS queue to read what
# was sent), the verification key and the "vendor responded" links' key; the
# functions get them at start.
echo "==> creating the reminder and escalation topics, their queues and the link keys" >&2
"$ROOT/.venv/bin/python" "$ROOT/infra/local/topics.py" >"$LOCAL_DIR/topics.env"
sed 's/^/export /' "$LOCAL_DIR/topics.env" >>"$LOCAL_DIR/env.tmp"
# The functions get the secrets' ARNs, never their values.
grep -E '^(REMINDER_TOPIC_ARN|ESCALATION_TOPIC_ARN|VERIFY_KEY_SECRET_ARN|RESPONDED_KEY_SECRET_ARN|INCIDENT_TOPIC_ARN|PAGERDUTY_TOKEN_SECRET_ARN|PAGERDUTY_WEBHOOK_SECRET_ARN|INCIDENT_WEBHOOK_SECRET_ARN)=' \
    "$LOCAL_DIR/topics.env" >>"$LOCAL_DIR/functions.env"
echo "VERIFY_BASE_URL=http://127.0.0.1:$LAMBDA_PORT/lambda-url/plans-api" >>"$LOCAL_DIR/functions.env"
# Incident Manager: the project's emulator. It delivers the CloudTrail-shaped
# StartIncident event and the runbook payload to the responder through the
# Lambda Invoke API of cargo lambda watch, as EventBridge and the runbook would;
# the payload is template.yaml's own runbook, rendered as SSM Automation would.
echo "==> starting the Incident Manager emulator" >&2
RESPONDER_INVOKE="http://127.0.0.1:$LAMBDA_PORT/2015-03-31/functions/incident-responder/invocations"
setsid "$ROOT/target/debug/incident-manager-emulator" --port-file "$LOCAL_DIR/emulator.port" \
    --event-target "$RESPONDER_INVOKE" --runbook-target "$RESPONDER_INVOKE" \
    --runbook-template "$ROOT/template.yaml" \
    >"$LOCAL_DIR/emulator.log" 2>&1 < /dev/null &
echo $! >"$LOCAL_DIR/emulator.pid"
for _ in $(seq 1 100); do
    [ -s "$LOCAL_DIR/emulator.port" ] && break
    kill -0 "$(cat "$LOCAL_DIR/emulator.pid")" 2>/dev/null || break   # refused to start (e.g. the runbook)
    sleep 0.1
done
[ -s "$LOCAL_DIR/emulator.port" ] || { echo "the emulator did not start; its log:" >&2; cat "$LOCAL_DIR/emulator.log" >&2; exit 1; }
EMULATOR_URL="http://127.0.0.1:$(cat "$LOCAL_DIR/emulator.port")"
# PagerDuty: the project's stand-in (infra/pagerduty-standin). It accepts the
# local token and, on POST /incidents, delivers the signed V3 webhook to the
# incident-hooks function, as a webhook subscription would; token and secret
# reach it through its environment, never its command line. Each attempt may
# take 60 s, not PagerDuty's 5: the first request to a function under cargo
# lambda watch may wait for it to start.
# Lambda's asynchronous invocation in front of cargo lambda watch, which runs
# an Event invocation synchronously: 202 at once, the event run in the
# background and retried twice on a function error, as Lambda does. The
# incident-hooks function hands incidents to the responder through it.
setsid "$ROOT/.venv/bin/python" "$ROOT/infra/local/lambda_async.py" --target "http://127.0.0.1:$LAMBDA_PORT" \
    --port-file "$LOCAL_DIR/lambda-async.port" >"$LOCAL_DIR/lambda-async.log" 2>&1 < /dev/null &
echo $! >"$LOCAL_DIR/lambda-async.pid"
for _ in $(seq 1 100); do
    [ -s "$LOCAL_DIR/lambda-async.port" ] && break
    sleep 0.1
done
[ -s "$LOCAL_DIR/lambda-async.port" ] || { echo "lambda_async.py did not start; its log:" >&2; cat "$LOCAL_DIR/lambda-async.log" >&2; exit 1; }
echo "==> starting the PagerDuty stand-in" >&2
HOOKS_URL="http://127.0.0.1:$LAMBDA_PORT/lambda-url/incident-hooks"
(
    # shellcheck disable=SC1091
    set -a && . "$LOCAL_DIR/topics.env" && set +a
    PAGERDUTY_WEBHOOK_TARGET="$HOOKS_URL/hooks/pagerduty" \
        exec setsid "$ROOT/target/debug/pagerduty-standin" --port-file "$LOCAL_DIR/pagerduty.port" --webhook-timeout 60 \
        >"$LOCAL_DIR/pagerduty.log" 2>&1 < /dev/null
) &
echo $! >"$LOCAL_DIR/pagerduty.pid"
for _ in $(seq 1 100); do
    [ -s "$LOCAL_DIR/pagerduty.port" ] && break
    kill -0 "$(cat "$LOCAL_DIR/pagerduty.pid")" 2>/dev/null || break
    sleep 0.1
done
[ -s "$LOCAL_DIR/pagerduty.port" ] || { echo "the PagerDuty stand-in did not start; its log:" >&2; cat "$LOCAL_DIR/pagerduty.log" >&2; exit 1; }
PAGERDUTY_URL="http://127.0.0.1:$(cat "$LOCAL_DIR/pagerduty.port")"
cat >>"$LOCAL_DIR/functions.env" <<ENV
PAGERDUTY_URL=$PAGERDUTY_URL
PAGERDUTY_FROM=support-plans@example.com
RESPONDER_FUNCTION=incident-responder
AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:$(cat "$LOCAL_DIR/lambda-async.port")
RESPONDED_URL=$HOOKS_URL/responded/
OPEN_SUPPORT_CASES=true
ENV
cat >>"$LOCAL_DIR/env.tmp" <<ENV
export PAGERDUTY_URL=$PAGERDUTY_URL
export HOOKS_URL=$HOOKS_URL
export RESPONDED_URL=$HOOKS_URL/responded/
ENV

cat >>"$LOCAL_DIR/functions.env" <<ENV
AWS_ENDPOINT_URL_SSM_INCIDENTS=$EMULATOR_URL
PLAN_URL=http://127.0.0.1:$LAMBDA_PORT/lambda-url/plans-api/plans/{id}
DIRECTORY_URL=http://127.0.0.1:$LAMBDA_PORT/lambda-url/plans-api/workloads
ENV
echo "export AWS_ENDPOINT_URL_SSM_INCIDENTS=$EMULATOR_URL" >>"$LOCAL_DIR/env.tmp"

# Reloading on every file change is for development (RELOAD=1); a test stack
# must not restart its functions mid-run.
reload=(--ignore-changes)
[ "${RELOAD:-0}" = 1 ] && reload=()
# --disable-cors: no preflight answers from cargo lambda itself; the function
# answers every method, as behind API Gateway without a CORS configuration.
setsid cargo lambda watch --quiet --disable-cors "${reload[@]}" "${profile[@]}" -A 127.0.0.1 -P "$LAMBDA_PORT" --env-file "$LOCAL_DIR/functions.env" \
    >"$LOCAL_DIR/functions.log" 2>&1 < /dev/null &
echo $! >"$LOCAL_DIR/functions.pid"
API_URL="http://127.0.0.1:$LAMBDA_PORT/lambda-url/plans-api"
echo "==> waiting for the plans API under cargo lambda watch" >&2
# One patient request rather than many short ones: requests that time out
# still queue in front of the function.
for _ in $(seq 1 60); do
    if "$ROOT/.venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=120)' \
        "$API_URL/openapi.json" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$(cat "$LOCAL_DIR/functions.pid")" 2>/dev/null; then
        echo "cargo lambda watch stopped; its log:" >&2
        cat "$LOCAL_DIR/functions.log" >&2
        exit 1
    fi
    sleep 0.5
done
cat >>"$LOCAL_DIR/env.tmp" <<ENV
export LAMBDA_ENDPOINT=http://127.0.0.1:$LAMBDA_PORT
export API_URL=$API_URL
ENV

mv "$LOCAL_DIR/env.tmp" "$LOCAL_DIR/env"
echo "==> local stack up: moto on 127.0.0.1:$MOTO_PORT, functions on 127.0.0.1:$LAMBDA_PORT; source $LOCAL_DIR/env" >&2

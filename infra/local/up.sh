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
cargo build --quiet -p local-stack -p plans-api
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
RUST_LOG=${FUNCTION_LOG:-info}
ENV
# Reloading on every file change is for development (RELOAD=1); a test stack
# must not restart its functions mid-run.
reload=(--ignore-changes)
[ "${RELOAD:-0}" = 1 ] && reload=()
setsid cargo lambda watch --quiet "${reload[@]}" -A 127.0.0.1 -P "$LAMBDA_PORT" --env-file "$LOCAL_DIR/functions.env" \
    >"$LOCAL_DIR/functions.log" 2>&1 < /dev/null &
echo $! >"$LOCAL_DIR/functions.pid"
API_URL="http://127.0.0.1:$LAMBDA_PORT/lambda-url/plans-api"
echo "==> waiting for the plans API under cargo lambda watch" >&2
for _ in $(seq 1 600); do
    if "$ROOT/.venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
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

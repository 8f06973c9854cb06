#!/usr/bin/env bash
# Runs boto3_check.py (plain boto3, an independent client) against the
# emulator binary on a free loopback port, then stops the emulator.
#
#   usage: boto3_check.sh [PATH-TO-incident-manager-emulator]
#   default binary: ${CARGO_TARGET_DIR:-$ROOT/target}/debug/incident-manager-emulator
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PY="$ROOT/.venv/bin/python"

BIN="${1:-}"
if [ -z "$BIN" ]; then
  TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
  case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
  BIN="$TARGET/debug/incident-manager-emulator"
fi
if [ ! -x "$BIN" ]; then
  echo "boto3_check: no emulator binary at $BIN (cargo build -p incident-manager-emulator)" >&2
  exit 2
fi
if [ ! -x "$PY" ]; then
  echo "boto3_check: no Python at $PY (the project's virtualenv)" >&2
  exit 2
fi

TMP="$(mktemp -d)"
EMU_PID=""
cleanup() {
  if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
    kill -TERM "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Started directly (not in a subshell) so $! is the emulator itself.
"$BIN" --port-file "$TMP/port" 2>"$TMP/emulator.log" &
EMU_PID=$!

for _ in $(seq 1 200); do
  [ -s "$TMP/port" ] && break
  if ! kill -0 "$EMU_PID" 2>/dev/null; then
    echo "boto3_check: the emulator exited at start:" >&2
    cat "$TMP/emulator.log" >&2
    exit 1
  fi
  sleep 0.05
done
if [ ! -s "$TMP/port" ]; then
  echo "boto3_check: the emulator did not announce its port" >&2
  exit 1
fi
PORT="$(cat "$TMP/port")"

# Only the emulator and test credentials: no profile, config or real account.
status=0
env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
  AWS_ENDPOINT_URL_SSM_INCIDENTS="http://127.0.0.1:$PORT" \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_DEFAULT_REGION=us-east-1 \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  "$PY" "$HERE/boto3_check.py" || status=$?

if [ "$status" -ne 0 ]; then
  echo "--- emulator log ---" >&2
  cat "$TMP/emulator.log" >&2
fi
exit "$status"

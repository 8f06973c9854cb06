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

# shellcheck source=emulator.sh
. "$HERE/emulator.sh"
emulator_bin boto3_check "${1:-}"
if [ ! -x "$PY" ]; then
  echo "boto3_check: no Python at $PY (the project's virtualenv)" >&2
  exit 2
fi

emulator_start

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

# Sourced by awscli_check.sh and boto3_check.sh (not run): finds the emulator
# binary, starts it on a free loopback port, waits for the port, and stops it
# when the script exits. Needs ROOT set; each message starts with CHECK.
#
#   emulator_bin CHECK [PATH]   sets BIN (default: ${CARGO_TARGET_DIR:-$ROOT/target}/debug/…), exit 2 if absent
#   emulator_start ARGS...      starts "$BIN" --port-file … ARGS…; sets TMP, EMU_PID, PORT; log in $TMP/emulator.log

emulator_bin() {
  CHECK="$1"
  BIN="${2:-}"
  if [ -z "$BIN" ]; then
    local target="${CARGO_TARGET_DIR:-$ROOT/target}"
    case "$target" in /*) ;; *) target="$ROOT/$target" ;; esac
    BIN="$target/debug/incident-manager-emulator"
  fi
  if [ ! -x "$BIN" ]; then
    echo "$CHECK: no emulator binary at $BIN (cargo build -p incident-manager-emulator)" >&2
    exit 2
  fi
}

emulator_cleanup() {
  if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
    kill -TERM "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}

emulator_start() {
  TMP="$(mktemp -d)"
  EMU_PID=""
  trap emulator_cleanup EXIT
  trap 'exit 130' INT TERM
  # Started directly (not in a subshell) so $! is the emulator itself.
  "$BIN" --port-file "$TMP/port" "$@" 2>"$TMP/emulator.log" &
  EMU_PID=$!
  for _ in $(seq 1 200); do
    [ -s "$TMP/port" ] && break
    if ! kill -0 "$EMU_PID" 2>/dev/null; then
      echo "$CHECK: the emulator exited at start:" >&2
      cat "$TMP/emulator.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  if [ ! -s "$TMP/port" ]; then
    echo "$CHECK: the emulator did not announce its port" >&2
    exit 1
  fi
  PORT="$(cat "$TMP/port")"
}

#!/usr/bin/env bash
# make local-down: stops everything up.sh started (each *.pid in $LOCAL_DIR,
# with its whole process group) and removes the env file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local}"

stopped=0
for pidfile in "$LOCAL_DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        stopped=$((stopped + 1))
    fi
    rm -f "$pidfile"
done
rm -f "$LOCAL_DIR/env" "$LOCAL_DIR/env.tmp" "$LOCAL_DIR"/*.port
echo "==> local stack down ($stopped process group(s) stopped)" >&2

#!/usr/bin/env bash
# make bench: builds release binaries, measures every figure of SPEC §10 and
# prints one table against the bars (also written to target/bench/table.md).
# BENCH_SMOKE=1 (CI): few iterations, no 10k-plan load (the scale part at
# 10 plans), no criterion run; still builds everything and goes through
# every other path.
# A part that fails is reported in the table as not measured and makes the
# run fail: a failed run is not a figure. Method: infra/bench/README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SMOKE="${BENCH_SMOKE:-0}"
OUT="$ROOT/target/bench"
RESULTS="$OUT/results"
FUNCTIONS=(plans-api incident-responder freshness-check incident-hooks)
# Every function template.yaml deploys: cold start, peak RSS and arm64 zip of each.
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
if [ "$SMOKE" = 1 ]; then
    RUNS=3 GETS=20 ITERATIONS=200 SCALE_PLANS=10 SCALE_RUNS=1
    # The smoke run goes through every path, not for figures: on x86_64 it
    # takes the debug builds `make test` has made (no release build: about
    # 7 minutes less of CI on two cores). The arm64 zips keep the release
    # profile (the template check has built them already).
    BIN_DIR="$ROOT/target/debug"
    STACK_RELEASE=0
else
    RUNS=20 GETS=200 ITERATIONS=20000 SCALE_PLANS=10000 SCALE_RUNS=3
    BIN_DIR="$ROOT/target/release"
    STACK_RELEASE=1
fi
BENCH="$BIN_DIR/bench"
failed=()
started=$(date +%s)
timings=()

step() { echo "==> $*" >&2; }
skip() { printf '{"skipped": "%s"}\n' "$2" >"$RESULTS/$1"; }
# timed NAME CMD...: runs CMD, records its duration; a failure is recorded, not fatal here.
timed() {
    local name="$1" t0 rc=0
    shift
    t0=$(date +%s)
    "$@" || rc=$?
    timings+=("$name: $(($(date +%s) - t0)) s")
    if [ "$rc" != 0 ]; then
        failed+=("$name (exit $rc)")
        return 1
    fi
}

infra/local/venv.sh
export PATH="$ROOT/.venv/bin:$PATH" # cargo-lambda and its zig

if [ "$SMOKE" = 1 ]; then
    step "debug builds (x86_64): the harness, hello-world and the examples, as make test built them"
    timed "debug build" cargo build --workspace --bins --examples
else
    step "release builds (x86_64): the functions as deployed, then the harness and hello-world"
    timed "release build" cargo build --release -p plans-api -p incident-responder -p freshness-check -p incident-hooks
    timed "harness build" cargo build --release -p bench --bins
    timed "command build" cargo build --release -p support-plans
fi

step "cold start, peak RSS ($RUNS runs each), GET latency and GET /readiness at 10 plans ($GETS GETs each) against the local stack"
timed "stack" env RELEASE="$STACK_RELEASE" infra/local/with-stack.sh "$BENCH" stack --bin-dir "$BIN_DIR" --out "$RESULTS/stack.json" --runs "$RUNS" --gets "$GETS" \
    || skip stack.json "FAILED: see the output above and target/bench/results/*.log"

# example NAME PACKAGE RESULT: an example's last stdout line (one JSON object) under its own stack.
example() {
    local name="$1" package="$2" result="$3"
    if [ ! -f "functions/$package/examples/$name.rs" ]; then
        skip "$result" "functions/$package/examples/$name.rs does not exist"
        return 0
    fi
    local run=(cargo run --quiet --release -p "$package" --example "$name")
    [ "$SMOKE" = 1 ] && run=("$BIN_DIR/examples/$name")
    if timed "$name" infra/local/with-stack.sh "${run[@]}" >"$OUT/$name.out"; then
        "$BENCH" last-json <"$OUT/$name.out" >"$RESULTS/$result" \
            || { failed+=("$name: no JSON line"); skip "$result" "FAILED: no JSON line in target/bench/$name.out"; }
    else
        skip "$result" "FAILED: see the output above and target/bench/$name.out"
    fi
}
step "responder critical path and end to end (the critical_path example)"
example critical_path incident-responder responder.json
step "follow-through: aged incidents, overlapping sweeps and a retry (the follow_up example)"
example follow_up incident-responder follow_up.json
step "$SCALE_PLANS plans / $((SCALE_PLANS * 10)) contacts in one stack: the scale example loads them (10,000: a minute or two), then GET /readiness and $SCALE_RUNS freshness-check process dry run(s)"
scale_example=(cargo run --quiet --release -p freshness-check --example scale --)
[ "$SMOKE" = 1 ] && scale_example=("$BIN_DIR/examples/scale")
timed "scale" env RELEASE="$STACK_RELEASE" SCALE_PLANS="$SCALE_PLANS" infra/local/with-stack.sh \
    infra/bench/scale.sh "$BENCH" "$OUT" "$RESULTS" --bin-dir "$BIN_DIR" --gets "$GETS" --runs "$SCALE_RUNS" -- "${scale_example[@]}" \
    || true
[ -s "$RESULTS/freshness.json" ] || skip freshness.json "FAILED: see the output above and target/bench/scale.out"
[ -s "$RESULTS/scale.json" ] || skip scale.json "FAILED: see the output above and target/bench/results/*-scale.log"

step "API handler overhead, store faked ($ITERATIONS timed calls)"
criterion=()
if [ "$SMOKE" != 1 ]; then
    if timed "criterion" cargo bench --quiet -p bench --bench api_overhead; then
        criterion=(--criterion "$ROOT/target/criterion/api_overhead_get_plan")
    fi
fi
timed "overhead" "$BENCH" overhead --out "$RESULTS/overhead.json" --iterations "$ITERATIONS" "${criterion[@]}" \
    || skip overhead.json "FAILED: see the output above"

step "support-plans lint over 1,000 plan files"
timed "lint" "$BENCH" lint --bin "$BIN_DIR/support-plans" --out "$RESULTS/lint.json" \
    || skip lint.json "FAILED: see the output above"

step "deployment zips (release, arm64, cargo lambda + zig)"
rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
    || rustup target add aarch64-unknown-linux-gnu
bins=()
for f in "${FUNCTIONS[@]}"; do bins+=(--bin "$f"); done
if timed "arm64 zips" cargo lambda build --release --arm64 --output-format zip "${bins[@]}"; then
    {
        echo "{"
        sep=""
        for f in "${FUNCTIONS[@]}"; do
            printf '%s  "%s": %s\n' "$sep" "$f" "$(stat -c %s "target/lambda/$f/bootstrap.zip")"
            sep=","
        done
        echo "}"
    } >"$RESULTS/zip.json"
else
    skip zip.json "FAILED: cargo lambda build --release --arm64"
fi

machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(rustc --version)"
mode=""
if [ "$SMOKE" = 1 ]; then mode=" (BENCH_SMOKE=1: smoke run, few iterations, x86_64 debug builds: not figures)"; fi
head="\`make bench\`$mode, $(date -u '+%Y-%m-%d %H:%M UTC'); $machine"
echo
echo "$head"
echo
"$BENCH" table --dir "$RESULTS" --markdown "$OUT/table.md"
printf '%s\n\n' "$head" | cat - "$OUT/table.md" >"$OUT/table.md.tmp"
mv "$OUT/table.md.tmp" "$OUT/table.md"
echo "steps: ${timings[*]/%/;} total $(($(date +%s) - started)) s"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "bench FAILED: ${failed[*]}" >&2
    exit 1
fi

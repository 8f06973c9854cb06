#!/usr/bin/env bash
# Checks the deployable template (SPEC §8), one verdict line per step:
#   cfn-lint          template.yaml
#   sam validate      --lint (offline: needs no AWS account, credentials or region)
#   checkov           the cloudformation framework, which reads SAM resources too;
#                     every skip must carry its justification inline in the
#                     template (resource Metadata: checkov: skip: - id, comment)
#   cargo lambda build  the functions' binaries (release, arm64), in one cargo run
#   sam build         rust-cargolambda: `cargo lambda build --release --arm64
#                     --bin <Binary>` per function, in the workspace's target/
#                     (fresh after the step before), copied to .aws-sam/build
#   bootstraps        one aarch64 `bootstrap` per AWS::Serverless::Function in
#                     .aws-sam/build/<LogicalId>/
# Runs every step even after a failure; exits non-zero if any failed.
# Tools: .venv (cfn-lint, cargo-lambda with zig), .venv-sam, .venv-checkov,
# all built by infra/local/venv.sh from pinned requirements.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

"$ROOT/infra/local/venv.sh" || exit 1
"$ROOT/infra/local/venv.sh" sam checkov || exit 1

# Nothing here talks to AWS: no telemetry, no update checks, no Prisma Cloud.
export SAM_CLI_TELEMETRY=0 CKV_SKIP_PACKAGE_UPDATE_CHECK=1
# sam build finds cargo-lambda (and its zig) on PATH.
export PATH="$ROOT/.venv/bin:$PATH"

TEMPLATE=template.yaml
BUILD_DIR=.aws-sam/build
LOG_DIR="$(mktemp -d)"
trap 'rm -rf "$LOG_DIR"' EXIT
failed=0

# step NAME CMD... : runs CMD with its output in a log and prints one verdict
# line with the time it took; then the log, when CMD failed or SHOW_LOG=1.
step() {
    local name="$1" log start end secs rc
    shift
    log="$LOG_DIR/step.log"
    VERDICT_NOTE=""
    start=$(date +%s.%N)
    "$@" >"$log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" -eq 0 ]; then
        echo "check-template: ok     $name (${secs} s)${VERDICT_NOTE:+: $VERDICT_NOTE}"
        [ "${SHOW_LOG:-0}" = 1 ] && sed 's/^/    /' "$log"
    else
        echo "check-template: FAILED $name (${secs} s, exit $rc)"
        sed 's/^/    /' "$log"
        failed=1
    fi
    return 0
}

# checkov, then each skip with its inline justification; a failed check, a
# skip without a comment or a parsing error fails the step.
run_checkov() {
    local json="$LOG_DIR/checkov.json" rc
    .venv-checkov/bin/checkov --file "$TEMPLATE" --framework cloudformation \
        --skip-download --output json >"$json"
    rc=$?
    .venv-checkov/bin/python - "$json" <<'PY' || rc=1
import json, sys
report = json.load(open(sys.argv[1]))
if isinstance(report, list):  # one entry per framework; only cloudformation runs
    report = report[0]
results, summary = report["results"], report["summary"]
for c in results["failed_checks"]:
    print(f"failed  {c['check_id']} {c['resource']}: {c['check_name']}")
unjustified = 0
for c in sorted(results["skipped_checks"], key=lambda c: (c["check_id"], c["resource"])):
    comment = (c["check_result"].get("suppress_comment") or "").strip()
    unjustified += not comment
    print(f"skipped {c['check_id']} {c['resource']}: {comment or 'NO JUSTIFICATION'}")
for e in results["parsing_errors"]:
    print(f"parsing error: {e}")
VERDICT = (f"checkov {summary['checkov_version']}: {summary['passed']} passed, "
           f"{summary['failed']} failed, {summary['skipped']} skipped")
print(VERDICT)
sys.exit(1 if summary["failed"] or results["parsing_errors"] or unjustified else 0)
PY
    VERDICT_NOTE="$(tail -n1 "$LOG_DIR/step.log" | sed 's/^checkov [^:]*: //'), every skip justified inline"
    return "$rc"
}

# The functions of the template: "LogicalId Binary" lines (Binary: the
# rust-cargolambda BuildProperties.Binary, "-" when there is none).
functions() {
    .venv-sam/bin/python - "$TEMPLATE" <<'PY'
import sys
from samcli.yamlhelper import yaml_parse
template = yaml_parse(open(sys.argv[1]).read())
for name, res in template["Resources"].items():
    if res.get("Type") == "AWS::Serverless::Function":
        binary = (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary") or "-"
        print(name, binary)
PY
}

# The functions' binaries in one cargo run, exactly as sam build's
# rust-cargolambda compiles them (same target dir, profile and flags), so that
# the final LTO links of two binaries share the two cores; sam build then finds
# them fresh. This is also the bench's `cargo lambda build --release --arm64`.
run_cargo_lambda_build() {
    local fns bins=() fn bin
    touch "$LOG_DIR/build-start"
    fns="$(functions)" || return 1
    while read -r fn bin; do
        [ "$bin" = "-" ] && { echo "$fn has no BuildProperties.Binary: left to sam build"; return 0; }
        bins+=(--bin "$bin")
    done <<<"$fns"
    rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu ||
        rustup target add aarch64-unknown-linux-gnu || return 1
    cargo lambda build --release --arm64 "${bins[@]}"
}

run_sam_build() {
    .venv-sam/bin/sam build --template-file "$TEMPLATE" --build-dir "$BUILD_DIR"
}

# Each function has .aws-sam/build/<LogicalId>/bootstrap: an executable
# aarch64 ELF written by this build.
check_bootstraps() {
    local fn path count=0 bad=0 fns
    fns="$(functions)" || return 1
    for fn in $(cut -d' ' -f1 <<<"$fns"); do
        count=$((count + 1))
        path="$BUILD_DIR/$fn/bootstrap"
        if [ ! -x "$path" ]; then
            echo "missing: $path"
            bad=1
            continue
        fi
        # ELF magic, and e_machine (offset 18, little-endian) 0xb7 = EM_AARCH64.
        if [ "$(od -An -tx1 -N4 "$path" | tr -d ' ')" != "7f454c46" ] ||
            [ "$(od -An -tx1 -j18 -N2 "$path" | tr -d ' ')" != "b700" ]; then
            echo "not an aarch64 ELF executable: $path"
            bad=1
        fi
        if [ ! "$path" -nt "$LOG_DIR/build-start" ]; then
            echo "not written by this build: $path"
            bad=1
        fi
        echo "$path: $(stat -c %s "$path") bytes"
    done
    [ "$count" -gt 0 ] || { echo "no AWS::Serverless::Function in $TEMPLATE"; bad=1; }
    VERDICT_NOTE="$count functions, one aarch64 bootstrap each in $BUILD_DIR"
    return "$bad"
}

step cfn-lint .venv/bin/cfn-lint "$TEMPLATE"
step "sam validate --lint" .venv-sam/bin/sam validate --lint --template-file "$TEMPLATE"
SHOW_LOG=1 step checkov run_checkov
step "cargo lambda build" run_cargo_lambda_build
step "sam build" run_sam_build
step bootstraps check_bootstraps
[ "$failed" -eq 0 ] && echo "check-template: template.yaml passes every check" ||
    echo "check-template: template.yaml FAILED (see above)"
exit "$failed"

#!/usr/bin/env bash
# Inside a private local stack (infra/local/with-stack.sh): the workspace's
# tests, then schemathesis against the API under cargo lambda watch. Both run;
# the script fails if either did.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
failed=0
"$ROOT/infra/local/cargo-test.sh" || failed=1
"$ROOT/infra/local/schemathesis/run.sh" || failed=1
exit "$failed"

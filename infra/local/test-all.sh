#!/usr/bin/env bash
# Inside a private local stack (infra/local/with-stack.sh): the workspace's
# tests, then schemathesis against the API under cargo lambda watch, then the
# verification page in headless Chromium (browser_story.py). All run; the
# script fails if any did.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
failed=0
"$ROOT/infra/local/cargo-test.sh" || failed=1
"$ROOT/infra/local/schemathesis/run.sh" || failed=1
"$ROOT/infra/local/venv.sh" browser && "$ROOT/.venv-browser/bin/python" "$ROOT/infra/local/browser_story.py" || failed=1
exit "$failed"

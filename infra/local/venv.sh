#!/usr/bin/env bash
# Creates the project's virtualenvs and installs their pinned packages.
#   venv.sh            .venv: the local stack (moto server, cargo-lambda with zig,
#                      schemathesis, cfn-lint), from requirements.txt + requirements.lock
#   venv.sh NAME...    .venv-NAME, from requirements-NAME.txt + requirements-NAME.lock
#                      (sam: the SAM CLI; checkov), kept apart because their pins
#                      conflict with each other and with the local stack's;
#                      browser (Selenium) also installs Debian's Chromium when
#                      it is missing (chromium.sh).
# Each is (re)installed only when its pins change: a stamp named after the hash
# of its two files marks what is installed, so a second run costs nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"

install_venv() {
    local name="$1" venv req lock what
    if [ -z "$name" ]; then
        venv="$ROOT/.venv"
        req="$ROOT/infra/local/requirements.txt"
        lock="$ROOT/infra/local/requirements.lock"
        what="the local stack into .venv (moto server, cargo-lambda)"
    else
        venv="$ROOT/.venv-$name"
        req="$ROOT/infra/local/requirements-$name.txt"
        lock="$ROOT/infra/local/requirements-$name.lock"
        what="$name into .venv-$name"
    fi
    if [ ! -f "$req" ] || [ ! -f "$lock" ]; then
        echo "venv.sh: no virtualenv '$name': missing ${req#"$ROOT"/} or ${lock#"$ROOT"/}" >&2
        return 1
    fi
    local stamp
    stamp="$venv/.installed-$(cat "$req" "$lock" | sha256sum | cut -c1-16)"
    [ -f "$stamp" ] && return 0
    echo "==> installing $what" >&2
    [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" -c "$lock"
    rm -f "$venv"/.installed-*
    touch "$stamp"
}

if [ "$#" -eq 0 ]; then
    install_venv ""
else
    for name in "$@"; do
        install_venv "$name"
        if [ "$name" = browser ]; then
            "$ROOT/infra/local/chromium.sh"
        fi
    done
fi

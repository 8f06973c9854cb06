#!/usr/bin/env bash
# Debian's headless Chromium and its WebDriver, for the browser test
# (infra/local/browser_story.py): installed with apt only when missing (CI runs
# as root on a fresh machine with no browser). Called by venv.sh browser.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium.sh: Chromium is missing; install it as root: apt-get install -y chromium chromium-driver" >&2
    exit 1
fi
echo "==> installing Chromium and its driver (Debian's packages)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
command -v chromium >/dev/null && command -v chromedriver >/dev/null

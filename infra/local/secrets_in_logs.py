"""Nothing secret in the functions' logs, at any level (issue 12). Run by
infra/local/test-local-stack.sh after its stories, against a stack started
with FUNCTION_LOG=trace, so every function logged at TRACE throughout.

It sends the API requests that carry credentials (a one-click link's token,
a bearer token, webhook signatures to the plans API and to the two webhook
routes of the incident-hooks function), each a fresh marker, and then
searches the functions' log (LOCAL_DIR/functions.log, everything cargo lambda
watch and the functions printed) for: each marker, the link-signing key as
Secrets Manager holds it (the freshness check and the API read it during the
stories), the PagerDuty token and the two webhook secrets (the responder and
the hooks read them during the stories), and any verification token in a
/verify/ path. It also checks that
the log really is at TRACE, so that a clean result means something.
"""

import json
import os
import re
import secrets
import sys
import urllib.error
import urllib.request

import boto3

API = os.environ["API_URL"]
HOOKS = os.environ["HOOKS_URL"]
LOG = os.path.join(os.environ["LOCAL_DIR"], "functions.log")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def http(method, url, headers, body=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def strings(value):
    """Every string in a secret value (plain, or JSON of any shape)."""
    try:
        value = json.loads(value)
    except ValueError:
        return [value]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(json.dumps(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(json.dumps(v))]
    return []


def main():
    marker = {name: f"{name}-{secrets.token_hex(12)}" for name in ("link", "bearer", "webhook", "pagerduty")}
    who = {"x-local-principal": "dana@example.com", "x-local-groups": "platform"}
    for method in ("GET", "POST"):
        http(method, f"{API}/verify/{marker['link']}", {})
    http(
        "POST",
        f"{API}/plans",
        {
            **who,
            "authorization": f"Bearer {marker['bearer']}",
            "webhook-signature": f"v1,{marker['webhook']}",
            "x-pagerduty-signature": f"v1={marker['pagerduty']}",
            "content-type": "application/json",
        },
        b'{"id": "log-check"}',
    )
    http(
        "POST",
        f"{HOOKS}/hooks/pagerduty",
        {"x-pagerduty-signature": f"v1={marker['pagerduty']}", "content-type": "application/json"},
        b'{"event": {"event_type": "incident.triggered"}}',
    )
    http(
        "POST",
        f"{HOOKS}/hooks/incident",
        {
            "webhook-id": "msg_log_check",
            "webhook-timestamp": "1",
            "webhook-signature": f"v1,{marker['webhook']}",
            "content-type": "application/json",
        },
        b'{"id": "log-check"}',
    )

    with open(LOG, encoding="utf-8", errors="replace") as f:
        log = f.read()
    if not re.search(r"\bTRACE\b", log):
        fail(f"{LOG} has no TRACE line: the functions did not log at TRACE, so this check proves nothing")
    found = [name for name, value in marker.items() if value in log]
    key = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["VERIFY_KEY_SECRET_ARN"])
    if any(s in log for s in strings(key["SecretString"]) if len(s) >= 16):
        found.append("the link-signing key")
    for name in ("PAGERDUTY_TOKEN", "PAGERDUTY_WEBHOOK_SECRET", "INCIDENT_WEBHOOK_SECRET"):
        value = os.environ[name]
        # whsec_ is a public prefix; the rest is the secret.
        if value.removeprefix("whsec_") in log:
            found.append(name)
    links = re.findall(r"/verify/[A-Za-z0-9_.-]{40,}", log)
    if links:
        found.append(f"{len(links)} verification link(s), e.g. {links[0][:24]}…")
    if found:
        fail(f"secrets in the functions' TRACE log ({LOG}): " + ", ".join(found))
    print(
        f"secrets in logs: none of {len(marker)} credentials, the link key, the PagerDuty token,"
        f" the two webhook secrets or a link in {len(log.splitlines())} lines at TRACE"
    )


if __name__ == "__main__":
    main()

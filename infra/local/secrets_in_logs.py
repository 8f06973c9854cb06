"""Nothing secret in the functions' logs, at any level (issue 12). Run by
infra/local/test-local-stack.sh after its stories, against a stack started
with FUNCTION_LOG=trace, so every function logged at TRACE throughout.

It sends the API requests that carry credentials (a one-click link's token,
a bearer token, webhook signatures to the plans API and to the two webhook
routes of the incident-hooks function, a "vendor responded" link's token and
the name typed on its form, and a well-signed responded link, so its key is
read), each a fresh marker, and then
searches the functions' log (LOCAL_DIR/functions.log, everything cargo lambda
watch and the functions printed) for: each marker, the link-signing key as
Secrets Manager holds it (the freshness check and the API read it during the
stories), the responded links' key, the PagerDuty token and the two webhook
secrets (the responder and the hooks read them during the stories), and any
verification or responded token in a /verify/ or /responded/ path. It also checks that
the log really is at TRACE, so that a clean result means something.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import time
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


def responded_link(key, incident, plan, expires):
    """A "vendor responded" token as the responder signs one (functions/domain/src/responded.rs)."""
    payload = f"r1|0|{plan}|{expires}|{incident}".encode()
    tag = hmac.new(key.encode(), payload, hashlib.sha256).digest()

    def b64(b):
        return base64.urlsafe_b64encode(b).decode().rstrip("=")

    return f"{b64(payload)}.{b64(tag)}"


def follow_up_notes():
    """An incident answered, aged 65 minutes, then swept: the responder signs
    the follow-up notes' responded links and posts them, at TRACE."""
    im = boto3.client("ssm-incidents")
    rds = "arn:aws:rds:us-east-1:111122223333:db:payments-log-check"
    plan = im.create_response_plan(
        name=f"log-check-{secrets.token_hex(4)}",
        incidentTemplate={"title": "Log check: payments", "impact": 1},
    )["arn"]
    arn = im.start_incident(
        responsePlanArn=plan,
        impact=1,
        relatedItems=[{"identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": rds}}}],
    )["incidentRecordArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = im.list_timeline_events(incidentRecordArn=arn)["eventSummaries"]
        if any(e["eventType"] == "Note" for e in events):
            break
        time.sleep(0.3)
    emulator = os.environ["AWS_ENDPOINT_URL_SSM_INCIDENTS"]
    http("POST", f"{emulator}/_emulator/incidents/age", {"content-type": "application/json"},
         json.dumps({"incidentRecordArn": arn, "minutes": 65}).encode())
    invoke = f"{os.environ['LAMBDA_ENDPOINT']}/2015-03-31/functions/incident-responder/invocations"
    http("POST", invoke, {"content-type": "application/json"}, b'{"sweep": true}')
    notes = [
        im.get_timeline_event(incidentRecordArn=arn, eventId=e["eventId"])["event"]["eventData"]
        for e in im.list_timeline_events(incidentRecordArn=arn, maxResults=100)["eventSummaries"]
        if e["eventType"] == "Note"
    ]
    linked = [n for n in notes if "/responded/" in n]
    if not linked:
        fail(f"no follow-up note with a responded link on {arn}: the check would prove nothing")
    return len(linked)


def main():
    marker = {
        name: f"{name}-{secrets.token_hex(12)}"
        for name in ("link", "bearer", "webhook", "pagerduty", "responded", "responder-name")
    }
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
    form = {"content-type": "application/x-www-form-urlencoded"}
    for method in ("GET", "POST"):
        http(method, f"{HOOKS}/responded/{marker['responded']}", form, f"by={marker['responder-name']}".encode())
    # A well-signed link (the key is read and used), for a plan whose note is
    # in no incident: nothing is recorded (404).
    sm = boto3.client("secretsmanager")
    responded_key = sm.get_secret_value(SecretId=os.environ["RESPONDED_KEY_SECRET_ARN"])["SecretString"]
    signed = responded_link(responded_key, "pagerduty:LOGCHECK", "log-check", int(time.time()) + 3600)
    for method in ("GET", "POST"):
        http(method, f"{HOOKS}/responded/{signed}", form, f"by={marker['responder-name']}".encode())
    follow_ups = follow_up_notes()

    with open(LOG, encoding="utf-8", errors="replace") as f:
        log = f.read()
    if not re.search(r"\bTRACE\b", log):
        fail(f"{LOG} has no TRACE line: the functions did not log at TRACE, so this check proves nothing")
    found = [name for name, value in marker.items() if value in log]
    key = sm.get_secret_value(SecretId=os.environ["VERIFY_KEY_SECRET_ARN"])
    if any(s in log for s in strings(key["SecretString"]) if len(s) >= 16):
        found.append("the link-signing key")
    if any(s in log for s in strings(responded_key) if len(s) >= 16):
        found.append("the responded links' key")
    if signed in log or signed.split(".")[1] in log:
        found.append("the signed responded link")
    for name in ("PAGERDUTY_TOKEN", "PAGERDUTY_WEBHOOK_SECRET", "INCIDENT_WEBHOOK_SECRET"):
        value = os.environ[name]
        # whsec_ is a public prefix; the rest is the secret.
        if value.removeprefix("whsec_") in log:
            found.append(name)
    links = re.findall(r"/verify/[A-Za-z0-9_.-]{40,}", log)
    if links:
        found.append(f"{len(links)} verification link(s), e.g. {links[0][:24]}…")
    responded = re.findall(r"/responded/[A-Za-z0-9_.-]{40,}", log)
    if responded:
        found.append(f"{len(responded)} responded link(s), e.g. {responded[0][:24]}…")
    if found:
        fail(f"secrets in the functions' TRACE log ({LOG}): " + ", ".join(found))
    print(
        f"secrets in logs: none of {len(marker)} credentials, the two link keys, the PagerDuty token,"
        f" the two webhook secrets or a link (the responder signed {follow_ups} follow-up links)"
        f" in {len(log.splitlines())} lines at TRACE"
    )


if __name__ == "__main__":
    main()

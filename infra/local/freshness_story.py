"""The freshness check end to end against a running local stack (source
.local/env first): the deployable binaries under cargo lambda watch, the
topics and queues of topics.py. Fails on any surprise.

1. a plan whose contacts were never verified is created through the API;
2. `{"dry_run": true}` through the Lambda Invoke API says what would be sent,
   and sends nothing;
3. a real run sends the owner one reminder: read back from the SQS queue
   subscribed to the reminder topic (the SNS envelope, with its attributes);
4. a rerun sends nothing more;
5. the reminder's one-click link: GET shows a page and changes nothing, the
   page's POST records the attestation (verified_via link);
6. GET /readiness answers.
"""

import json
import os
import re
import sys
import urllib.request

import boto3

API = os.environ["API_URL"]
AS = {"x-local-principal": "dana@example.com", "x-local-groups": "observability"}
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def invoke(lam, payload):
    r = lam.invoke(FunctionName="freshness-check", Payload=json.dumps(payload).encode())
    body = r["Payload"].read().decode()
    if r.get("FunctionError"):
        fail(f"freshness-check {payload}: {body}")
    return json.loads(body)


def drain(sqs, url):
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def main():
    lam = boto3.client("lambda", endpoint_url=os.environ["LAMBDA_ENDPOINT"])
    sqs = boto3.client("sqs")
    queue = os.environ["REMINDER_QUEUE_URL"]
    drain(sqs, queue)

    plan_id = f"freshness-story-{os.getpid()}"
    with open(os.path.join(ROOT, "infra/local/samples/plans/datadog-enterprise.json")) as f:
        plan = json.load(f)
    plan["id"] = plan_id
    plan.pop("renews_on", None)
    team = plan["owner"]["team"]
    status, _, text = http(
        "POST", f"{API}/plans", json.dumps(plan).encode(), {**AS, "content-type": "application/json"}
    )
    if status != 201:
        fail(f"creating {plan_id}: {status} {text}")
    print(f"--- plan {plan_id} created (owner team {team}), contacts never verified")

    dry = invoke(lam, {"dry_run": True})
    if dry["reminders"] < 1 or drain(sqs, queue):
        fail(f"the dry run should remind and send nothing: {dry}")
    print(f"--- dry run: {json.dumps(dry)}")

    real = invoke(lam, {})
    # The same decisions; the real run also made the SNS calls and table
    # writes the dry run only reported (subscriptions), and read back what it
    # recorded for readiness.
    def decided(summary):
        s = json.loads(json.dumps(summary))
        s.pop("table_reads")
        s.pop("snapshot")
        for k in ("sns_calls", "table_requests"):
            s["subscriptions"].pop(k)
        return s

    # The same reads; the real run also wrote what the dry run only reported,
    # and the readiness snapshot.
    if (
        decided(real) != decided(dry)
        or real["table_reads"] != dry["table_reads"]
        or (dry["snapshot"], real["snapshot"]) != ("not_written", "replaced")
    ):
        fail(f"the real run differs from the dry run: {real} vs {dry}")

    sent = [m for m in drain(sqs, queue) if m["MessageAttributes"]["owner_team"]["Value"] == team]
    if len(sent) != 1:
        fail(f"expected one reminder to {team}, got {len(sent)}")
    reminder = sent[0]
    attrs = {k: v["Value"] for k, v in reminder["MessageAttributes"].items()}
    if attrs["kind"] != "reminder" or plan_id not in json.loads(attrs["plan_ids"]):
        fail(f"attributes: {attrs}")
    print(f"--- reminder to {attrs['owner_email']}: {reminder['Subject']}")

    again = invoke(lam, {})
    if again["reminders"] != 0 or drain(sqs, queue):
        fail(f"a rerun the same day must send nothing: {again}")
    print("--- rerun: nothing sent")

    links = re.findall(r"Confirm in one click: (\S+)", reminder["Message"])
    link = next((l for l in links if "/verify/" in l), None)
    if not link or not link.startswith(API):
        fail(f"no one-click link to {API} in the reminder")
    status, headers, page = http("GET", link)
    if status != 200 or "text/html" not in headers.get("content-type", "") or "<form" not in page:
        fail(f"GET {link}: {status}")
    status, _, text = http("GET", f"{API}/plans/{plan_id}", headers=AS)
    if json.loads(text)["version"] != 1:
        fail("a GET of the link changed the plan")
    status, _, page = http("POST", link, b"", {"content-type": "application/x-www-form-urlencoded"})
    if status != 200 or "Thank you" not in page:
        fail(f"POST {link}: {status} {page}")
    plan = json.loads(http("GET", f"{API}/plans/{plan_id}", headers=AS)[2])
    vias = [c.get("verified_via") for c in plan["contacts"]]
    if plan["version"] != 2 or vias.count("link") != 1:
        fail(f"after the POST: version {plan['version']}, verified_via {vias}")
    print("--- one-click link: GET changed nothing, POST recorded verified_via link")

    status, _, text = http("GET", f"{API}/readiness", headers=AS)
    if status != 200 or json.loads(text)["plans"] < 1:
        fail(f"GET /readiness: {status} {text}")
    print(f"--- readiness: {text}")
    print("freshness story: 1 passed, 0 failed")


if __name__ == "__main__":
    main()

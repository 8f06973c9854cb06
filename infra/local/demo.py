"""The story of `make demo`, against a running local stack (demo.sh starts it
and sources its env): the same calls people and AWS would make, printed as
they happen. Exits non-zero, saying why, when a step does not give what it
should.
"""

import html
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLES = os.path.join(ROOT, "infra", "local", "samples")
API = os.environ["API_URL"]
EMULATOR = os.environ["AWS_ENDPOINT_URL_SSM_INCIDENTS"]
PAGERDUTY = os.environ["PAGERDUTY_URL"]
ACCOUNT = "111122223333"
RDS = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:payments-main"
BOLD, DIM, END = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def step(n, title, why=""):
    print(f"\n{BOLD}== {n}. {title}{END}")
    if why:
        print(textwrap.fill(why, 92))


def fail(msg):
    print(f"\nDEMO FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def indent(text, prefix="    "):
    return textwrap.indent(text, prefix)


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"content-type": "application/json"} if data else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def caller(team):
    # Locally there is no API Gateway: the caller comes from two headers that
    # only the local stack honours (LOCAL_AUTH=1). Deployed, it is IAM or a JWT.
    return {"x-local-principal": f"lead@{team}.example.com", "x-local-groups": team}


def samples(kind):
    folder = os.path.join(SAMPLES, kind)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                yield json.load(f)


def drain(sqs, url, wait=0):
    """Every message on an SQS queue subscribed to an SNS topic (the envelope)."""
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        wait = 0


def load_samples():
    step(2, "Loading the sample support plans and workloads as code, with the support-plans command",
         "infra/local/samples is a plans repository (plans/<id>.json, workloads/<name>.json). "
         "lint checks it offline with the API's own validation; diff shows what apply would do; "
         "apply writes it through the API (plans first, each replace with If-Match); a second diff "
         "finds nothing to do. Every write is validated by the domain and versioned.")
    cli = os.path.join(ROOT, "target", "debug", "support-plans")
    admin = ["--endpoint", API, "--as", "lead@platform.example.com", "--groups", "support-plans-admins"]
    for args, want in [
        (["lint", SAMPLES], 0),
        (["diff", "-f", SAMPLES, *admin], 2),
        (["apply", "-f", SAMPLES, *admin], 0),
        (["diff", "-f", SAMPLES, *admin], 0),
    ]:
        shown = " ".join(a if a != API else "$API_URL" for a in args).replace(SAMPLES, "infra/local/samples")
        print(f"  $ support-plans {shown}")
        run = subprocess.run([cli, *args], capture_output=True, text=True)
        for line in (run.stdout + run.stderr).splitlines():
            print(f"    {line}")
        if run.returncode != want:
            fail(f"support-plans {args[0]} exited {run.returncode}, expected {want}")
    plans = list(samples("plans"))
    bad = dict(plans[0], id="Not A Slug", contacts=[])
    status, _, text = http("POST", f"{API}/plans", bad, caller(plans[0]["owner"]["team"]))
    errors = json.loads(text).get("errors", [])
    print(f"  and a bad one: POST /plans with a bad id and no contacts -> {status}, naming every field:")
    for e in errors[:4]:
        print(f"      {e.get('field')}: {e.get('message')}")
    if status != 400:
        fail(f"a bad plan was not refused: {status} {text}")

    print("\n  A year of keeping them, in one step: the local-stack tool gives each plan the history"
          "\n  infra/local/samples/seed.json describes (created, reviewed and verified so many days ago).")
    subprocess.run([os.path.join(ROOT, "target", "debug", "local-stack"), "age", "--table",
                    os.environ["TABLE_NAME"]], check=True)
    status, _, card = http("GET", f"{API}/workloads/payments/support?format=markdown", headers=caller("payments"))
    if status != 200:
        fail(f"GET the payments support card: {status} {card}")
    lines = card.splitlines()
    print("\n  The support card of the payments workload, for a wiki (GET /workloads/payments/support?format=markdown),"
          " first lines:")
    print(indent("\n".join(lines[:14])))
    print(f"    {DIM}... ({len(lines) - 14} more lines){END}")


def response_plan(im, sns, sqs):
    step(3, "Creating the response plan payments-critical in Incident Manager (the local emulator)",
         "As a deployed stack is wired: the plan runs the support-plans runbook (an SSM Automation "
         "document that invokes the responder with INCIDENT_RECORD_ARN and INVOLVED_RESOURCES), and "
         "its chat channel is an AWS Chatbot SNS topic. The stack's EventBridge rule also sends the "
         "responder CloudTrail's StartIncident event: two triggers, one answer.")
    chat_topic = sns.create_topic(Name="payments-oncall-chatbot")["TopicArn"]
    chat_queue = sqs.create_queue(QueueName="payments-oncall-chatbot")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=chat_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=chat_topic, Protocol="sqs", Endpoint=queue_arn)
    arn = im.create_response_plan(
        name="payments-critical",
        displayName="Payments critical",
        incidentTemplate={"title": "Payments incident", "impact": 2},
        chatChannel={"chatbotSns": [chat_topic]},
        actions=[{"ssmAutomation": {
            "documentName": "support-plans-ResponderRunbook",  # the stack's RunbookName output
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/support-plans-RunbookRole",
            "targetAccount": "RESPONSE_PLAN_OWNER_ACCOUNT",
            "dynamicParameters": {
                "INCIDENT_RECORD_ARN": {"variable": "INCIDENT_RECORD_ARN"},
                "INVOLVED_RESOURCES": {"variable": "INVOLVED_RESOURCES"},
            },
        }}],
    )["arn"]
    print(f"  {arn}")
    print(f"  chat channel (AWS Chatbot's SNS topic): {chat_topic}")
    return arn, chat_queue


def incident(im, plan_arn, chat_queue, sqs):
    step(4, "An incident starts: card payments are failing (StartIncident with the AWS SDK)",
         f"Impact 1, with the ledger database {RDS} as an involved resource. Nothing else is "
         "called: the responder is triggered by the emulator, as by AWS.")
    started = time.monotonic()
    arn = im.start_incident(
        responsePlanArn=plan_arn,
        title="Card payments failing at checkout",
        impact=1,
        relatedItems=[{"identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": RDS}}}],
    )["incidentRecordArn"]
    print(f"  {arn}")
    notes, deliveries = [], []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        notes = [e for e in im.list_timeline_events(incidentRecordArn=arn)["eventSummaries"] if e["eventType"] == "Note"]
        with urllib.request.urlopen(f"{EMULATOR}/_emulator/deliveries", timeout=10) as r:
            deliveries = [d for d in json.load(r)["deliveries"] if d.get("incident_record_arn") == arn]
        if len(notes) >= 5 and len(deliveries) >= 2:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    if len(notes) < 5:
        fail(f"expected one note per vendor plan of the payments workload (4) and the AWS case's, got {len(notes)} in 120 s")
    print(f"  {len(notes)} notes posted {elapsed:.1f} s after StartIncident; the emulator delivered "
          + ", ".join(f"the {d['kind']} ({'ok' if d.get('delivered') else 'FAILED'})" for d in deliveries))

    step(5, "The incident's timeline, as responders see it in the Incident Manager console",
         "One note per vendor plan the matched workload relies on: the vendor severity to open for "
         "this impact, the promised first response and when it is due, how to open a case, whom to "
         "call next, and warnings on contacts nobody has verified lately.")
    events = im.list_timeline_events(incidentRecordArn=arn, sortBy="EVENT_TIME", sortOrder="ASCENDING")["eventSummaries"]
    full = None  # one note in full: the first that warns of a stale contact
    for summary in events:
        event = im.get_timeline_event(incidentRecordArn=arn, eventId=summary["eventId"])["event"]
        when = event["eventTime"].strftime("%H:%M:%S")
        print(f"\n  {BOLD}[{when}] {event['eventType']}{END}")
        text = event["eventData"]
        if event["eventType"] != "Note":
            print(indent(text[:300]))
            continue
        lines = text.splitlines()
        if full is None and "⚠" in text:
            full = summary["eventId"]
        shown = lines if full == summary["eventId"] else lines[:4]
        print(indent("\n".join(shown)))
        if len(shown) < len(lines):
            print(f"    {DIM}... ({len(lines) - len(shown)} more lines){END}")
    if full is None:
        fail("no note warned of a stale contact, although seed.json makes some overdue")

    step(6, "Related items added to the incident: each vendor's support portal")
    items = im.list_related_items(incidentRecordArn=arn)["relatedItems"]
    for item in items:
        value = item["identifier"]["value"]
        print(f"  {item['identifier']['type']:<18} {item.get('title', ''):<42} {value.get('url') or value.get('arn')}")
    if sum(1 for i in items if i["identifier"]["type"] == "OTHER") < 1:
        fail("no vendor portal was added as a related item")

    step(7, "The message in the incident's chat channel (AWS Chatbot custom notification, via SNS)",
         "Published once per topic, although two triggers arrived.")
    chats = drain(sqs, chat_queue, wait=2)
    summaries = drain(sqs, os.environ["INCIDENT_QUEUE_URL"], wait=1)
    if len(chats) != 1:
        fail(f"expected exactly one chat message on the response plan's channel, got {len(chats)}")
    print(indent(json.dumps(json.loads(chats[0]["Message"]), indent=2, ensure_ascii=False)))
    print(f"  messages on the chat channel: {len(chats)}; on the stack's incident topic: {len(summaries)}")
    return arn


def invoke(function, event):
    """The function invoked as Lambda would (the Invoke API of cargo lambda watch)."""
    status, _, text = http("POST", f"{os.environ['LAMBDA_ENDPOINT']}/2015-03-31/functions/{function}/invocations", event)
    if status != 200:
        fail(f"{function}: {status} {text}")
    return json.loads(text)


def notes_of(im, arn):
    out = []
    for summary in im.list_timeline_events(incidentRecordArn=arn, sortBy="EVENT_TIME",
                                           sortOrder="ASCENDING", maxResults=100)["eventSummaries"]:
        if summary["eventType"] == "Note":
            out.append(im.get_timeline_event(incidentRecordArn=arn, eventId=summary["eventId"])["event"])
    return out


def show(event, lines=3):
    text = event["eventData"].splitlines()
    print(f"\n  {BOLD}[{event['eventTime'].strftime('%H:%M')}] Note{END}")
    print(indent("\n".join(text[:lines])))
    if len(text) > lines:
        print(f"    {DIM}... ({len(text) - lines} more lines){END}")


def follow_through(im, arn):
    step(8, "An hour later: the follow-up sweep (FollowUpSchedule, every 5 minutes)",
         "The plans' steps have times and each vendor promised a first response. The emulator moves the "
         "incident's start 65 minutes into the past instead of waiting an hour; the sweep runs as its "
         "schedule would, twice at once and once more as a retry. Each step whose time has come and each "
         "first response now due gets one short note, exactly once; later steps get nothing yet. Each note "
         "is dated when its step fell due.")
    status, _, text = http("POST", f"{EMULATOR}/_emulator/incidents/age", {"incidentRecordArn": arn, "minutes": 65})
    if status != 200:
        fail(f"aging the incident: {status} {text}")
    answers = []
    sweeps = [threading.Thread(target=lambda: answers.append(invoke("incident-responder", {"sweep": True})))
              for _ in range(2)]
    for t in sweeps:
        t.start()
    for t in sweeps:
        t.join()
    answers.append(invoke("incident-responder", {"sweep": True}))
    print("  three sweeps answered: " + "; ".join(
        f"{a.get('follow_ups', a.get('errorMessage', a))} follow-up notes" for a in answers))
    follow = [e for e in notes_of(im, arn)
              if e["eventData"].startswith(("### Follow-up", "### First response due"))]
    if not follow:
        fail("no follow-up note after 65 minutes")
    texts = [e["eventData"] for e in follow]
    if len(set(texts)) != len(texts):
        fail("a follow-up note was posted twice")
    for e in follow:
        show(e, lines=3)
    print(f"\n  {len(follow)} follow-up notes, each once, although three sweeps ran")
    return follow


def aws_case(im, arn):
    step(9, "The AWS Support case, opened by the responder (the AWS Support API, served by moto)",
         "aws-business says open_case at impact 2 or worse, and its severities carry AWS's codes. The "
         "impact-1 incident opened one case with the mapped severity, the incident's title and a body "
         "naming the incident, its start, impact and involved resources, the owner and cc_emails in CC; "
         "the case id and its console link went into the incident. Five deliveries would still open one.")
    support = boto3.client("support", region_name="us-east-1")
    cases = [c for c in support.describe_cases(includeResolvedCases=True, includeCommunications=True)["cases"]
             if "Card payments failing" in c.get("subject", "")]
    if len(cases) != 1:
        fail(f"expected one AWS Support case for the incident, found {len(cases)}")
    c = cases[0]
    print(f"  case {c['displayId']} ({c['caseId']}): severity {c['severityCode']}, service {c['serviceCode']}, "
          f"category {c['categoryCode']}")
    print(f"  subject: {c['subject']}")
    print(f"  cc: {', '.join(c.get('ccEmailAddresses', []))}")
    body = c["recentCommunications"]["communications"][0]["body"]
    print(indent("\n".join(body.splitlines()[:6])))
    told = [e for e in notes_of(im, arn) if e["eventData"].startswith("### AWS Support case")]
    if len(told) != 1 or c["caseId"] not in told[0]["eventData"]:
        fail("the case id is not in the incident")
    show(told[0], lines=4)


def responded(im, arn, follow):
    step(10, "A vendor answers: Stripe is marked as responding from the note's link",
         "Each follow-up note ends with a signed link (GET /responded/{token}). Opening it shows a "
         "confirmation page and changes nothing; submitting it records who and when, in the table and "
         "in the incident, and that plan's follow-ups stop. Portals can do the same with "
         "POST /incidents/{incident}/plans/{plan}/responded.")
    stripe = next((e["eventData"] for e in follow if "Stripe" in e["eventData"]), None)
    if stripe is None:
        fail("no Stripe follow-up to answer")
    link = re.search(r"Vendor responded\? (\S+)", stripe).group(1)
    print(f"  the link: {link[:90]}...")
    status, _, page = http("GET", link)
    title = re.search(r"<h1>(.*?)</h1>", page, re.S)
    print(f"  GET  -> {status}: {title.group(1).strip() if title else page[:80]}")
    status, _, page = http("POST", link, None, {"content-type": "application/x-www-form-urlencoded"})
    print(f"  POST without a name -> {status}")
    req = urllib.request.Request(link, data=b"by=Dana+%28payments+on-call%29", method="POST",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=60) as r:
        page = r.read().decode()
        title = re.search(r"<h1>(.*?)</h1>", page, re.S)
        print(f"  POST by=Dana (payments on-call) -> {r.status}: {title.group(1).strip() if title else ''}")
    deadline = time.monotonic() + 60
    told = []
    while time.monotonic() < deadline and not told:
        told = [e for e in notes_of(im, arn) if e["eventData"].startswith("### Vendor responding")]
        time.sleep(0.3)
    if len(told) != 1:
        fail("the incident was not told that Stripe responded")
    show(told[0], lines=2)
    before = {e["eventData"] for e in notes_of(im, arn)}
    http("POST", f"{EMULATOR}/_emulator/incidents/age", {"incidentRecordArn": arn, "minutes": 60})
    invoke("incident-responder", {"sweep": True})
    new = [e for e in notes_of(im, arn) if e["eventData"] not in before]
    print(f"\n  an hour later again (minute 125), the sweep posts {len(new)} more notes, "
          f"{sum('Stripe' in e['eventData'] for e in new)} of them for Stripe:")
    for e in new:
        print(f"    {e['eventData'].splitlines()[0]}")
    if any("Stripe" in e["eventData"] for e in new):
        fail("Stripe was marked as responding, yet followed up")


def pagerduty(sqs):
    step(11, "The same incident kept in PagerDuty (the local PagerDuty stand-in, its REST API)",
         "Most teams run incidents in PagerDuty. The checkout-web workload names its PagerDuty "
         "service in match.pagerduty_services; PagerDuty's webhook subscription sends the signed "
         "V3 incident.triggered to POST /hooks/pagerduty, which verifies it, answers 202 and hands "
         "it to the responder. The responder reads the incident and posts one note per plan.")
    pd = {
        "authorization": f"Token token={os.environ['PAGERDUTY_TOKEN']}",
        "accept": "application/vnd.pagerduty+json;version=2",
        "from": "oncall-lead@example.com",
    }
    status, _, text = http("POST", f"{PAGERDUTY}/services", {"service": {"type": "service", "name": "Checkout Web"}}, pd)
    if status != 201:
        fail(f"POST {PAGERDUTY}/services: {status} {text}")
    service = json.loads(text)["service"]
    _, _, text = http("GET", f"{PAGERDUTY}/priorities", None, pd)
    p2 = next(p for p in json.loads(text)["priorities"] if p["name"] == "P2")
    title = "Elevated 5xx on the web front end"
    status, _, text = http("POST", f"{API}/match", {"title": title, "pagerduty_service": service["name"]}, caller("storefront"))
    if status != 200:
        fail(f"POST /match: {status} {text}")
    matched = json.loads(text)
    print(f"  PagerDuty service {service['name']!r} ({service['id']}); POST /match says:")
    for w in matched.get("workloads", []):
        name = w.get("name") or w.get("workload", {}).get("name")
        why = "; ".join(
            r["kind"] + "".join(f" {v!r}" for k, v in r.items() if k != "kind") for r in w.get("reasons", [])
        )
        print(f"    workload {name}: {why}")
    started = time.monotonic()
    status, _, text = http("POST", f"{PAGERDUTY}/incidents", {"incident": {
        "type": "incident", "title": title,
        "service": {"id": service["id"], "type": "service_reference"},
        "priority": {"id": p2["id"], "type": "priority_reference"},
    }}, pd)
    if status != 201:
        fail(f"POST {PAGERDUTY}/incidents: {status} {text}")
    incident = json.loads(text)["incident"]
    print(f"  POST /incidents -> 201, incident {incident['id']} (priority P2, so impact 2)")
    # One note per plan, and the AWS Support case aws-business opens at impact 2.
    expected = len(next(w for w in samples("workloads") if w["name"] == "checkout-web")["dependencies"]) + 1
    notes = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, _, text = http("GET", f"{PAGERDUTY}/incidents/{incident['id']}/notes", None, pd)
        notes = json.loads(text)["notes"]
        if len(notes) >= expected:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    with urllib.request.urlopen(f"{PAGERDUTY}/_standin/deliveries", timeout=10) as r:
        deliveries = [d for d in json.load(r)["deliveries"] if d.get("incident_id") == incident["id"]]
    if len(notes) != expected:
        fail(f"expected one note per plan of checkout-web and the AWS case ({expected}), got {len(notes)} in 120 s")
    print(f"  {len(notes)} notes posted {elapsed:.1f} s after POST /incidents; the webhook was answered "
          + ", ".join(str(d.get("status")) for d in deliveries))

    step(12, "The PagerDuty incident's notes, as responders see them in PagerDuty",
         "The same steps as in Incident Manager, in the incident's Notes: severity, due time, "
         "steps and contacts. The last line is the marker that keeps a retried post from posting twice.")
    for i, note in enumerate(notes):
        lines = note["content"].splitlines()
        shown = lines if i == 0 else lines[:4]
        print(f"\n  {BOLD}[{note['created_at']}] note by {note['user']['summary']}{END}")
        print(indent("\n".join(shown)))
        if len(shown) < len(lines):
            print(f"    {DIM}... ({len(lines) - len(shown)} more lines){END}")
    chats = [m for m in drain(sqs, os.environ["INCIDENT_QUEUE_URL"], wait=2) if incident["id"] in m["Message"]]
    print(f"\n  chat messages for {incident['id']} on the stack's incident topic: {len(chats)}")
    if len(chats) != 1:
        fail(f"expected one chat message for the PagerDuty incident, got {len(chats)}")


def freshness(sqs):
    step(13, "The freshness check runs (as its daily schedule would: the Lambda Invoke API)",
         "It reads every active plan once and first keeps the reminder and escalation topics' e-mail "
         "subscriptions in step with the plans (SPEC §14): a dry run says what it would change; the "
         "run subscribes each owner and escalation address with its filter policy. Then it works out "
         "which contacts, reviews and contracts are due and sends each owner team one reminder; items "
         "overdue by more than 30 days also go to the owner's escalation address.")
    dry = invoke("freshness-check", {"dry_run": True})
    subs = dry["subscriptions"]
    print(f"  dry run: would subscribe {len(subs['created'])} addresses, remove {len(subs['removed'])}; "
          f"nothing sent, nothing changed:")
    for c in subs["created"]:
        print(f"      + {c['topic']:<10} {c['address']}")
    summary = invoke("freshness-check", {})
    subs = summary["subscriptions"]
    print(f"  run: {summary['plans']} plans, {summary['contacts']} contacts, {summary['due_soon']} due soon, "
          f"{summary['overdue']} overdue; {summary['reminders']} reminders, {summary['escalations']} escalations; "
          f"subscribed {len(subs['created'])} addresses ({subs['sns_calls']} SNS calls)")
    if not subs["created"]:
        fail("the freshness check subscribed nobody although no owner had a subscription")
    reminders = drain(sqs, os.environ["REMINDER_QUEUE_URL"], wait=2)
    escalations = drain(sqs, os.environ["ESCALATION_QUEUE_URL"], wait=1)
    if not reminders:
        fail("the freshness check sent no reminder although the samples hold overdue contacts")
    reach(summary)
    return reminders, escalations


def confirm(topic, address):
    """The owner follows the link in SNS's confirmation e-mail (moto's stand-in for the click)."""
    status, _, text = http("POST", f"{os.environ['AWS_ENDPOINT_URL']}/_support_plans/sns-confirm",
                           {"topic_arn": topic, "endpoint": address})
    if status != 200:
        fail(f"confirming {address}: {status} {text}")


def reach(first):
    step(14, "Who the reminders reach: the topics' subscriptions, and the owner who has not confirmed",
         "What a new owner receives first is SNS's own e-mail, 'AWS Notification - Subscription "
         "Confirmation'. Until they follow its link they are unreachable, and the plan, the support "
         "card and readiness say so. Subscriptions made by hand (here the queue the demo reads) are "
         "never touched.")
    sns = boto3.client("sns")
    topics = {"reminder": os.environ["REMINDER_TOPIC_ARN"], "escalation": os.environ["ESCALATION_TOPIC_ARN"]}
    for name, arn in topics.items():
        for sub in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]:
            state = "pending confirmation" if sub["SubscriptionArn"] == "PendingConfirmation" else "confirmed"
            print(f"  {name:<10} {sub['Protocol']:<5} {sub['Endpoint']:<40} {state}")
    status, _, text = http("GET", f"{API}/plans/mongodb-atlas", headers=caller("data"))
    owner = json.loads(text)["reachability"]["owner"] if status == 200 else None
    print(f"\n  GET /plans/mongodb-atlas -> reachability.owner: {json.dumps(owner)}")
    if not owner or owner["reachable"] is not False:
        fail(f"the data team's owner should show as unreachable: {status} {text}")

    unconfirmed = "data-team@example.com"
    print(f"\n  Every owner and escalation address follows SNS's link, except {unconfirmed}:")
    for c in first["subscriptions"]["created"]:
        if c["address"] != unconfirmed:
            confirm(topics[c["topic"]], c["address"])
    run = invoke("freshness-check", {})
    again = run["subscriptions"]
    print(f"  the next check: {len(again['created'])} to create, {len(again['removed'])} to remove, "
          f"{again['sns_calls']} SNS calls for {again['addresses']} addresses; unreachable: "
          f"{json.dumps(again['owners_unreachable'])}")
    print(f"  owners reachable since the last check: {', '.join(again['owners_now_reachable'])}; those with "
          f"items due are reminded again now, whatever the cadence (the first reminder reached nobody): "
          f"{run['reminders']} reminders")
    if not again["owners_now_reachable"] or run["reminders"] < 1:
        fail(f"the owners who confirmed should be reminded at once: {run}")
    if again["created"] or again["removed"] or list(again["owners_unreachable"]) != [unconfirmed]:
        fail(f"after the confirmations the check should change nothing and find one owner unreachable: {again}")
    status, _, card = http("GET", f"{API}/workloads/analytics/support?format=markdown", headers=caller("data"))
    line = next((l for l in card.splitlines() if "Reminders do not reach" in l), None)
    print(f"  the analytics support card says: {line}")
    if line is None:
        fail(f"the support card does not say the data team's owner is unreachable: {card}")


def emails(reminders, escalations):
    step(15, "The reminder e-mails, as an owner reads them (SNS topic -> the owner's e-mail subscription)",
         "Each owner address is subscribed with a filter policy on owner_email, so each gets its own.")
    all_links = []
    for m in reminders + escalations:
        attrs = {k: v["Value"] for k, v in m.get("MessageAttributes", {}).items()}
        to = attrs.get("escalation_email") if attrs.get("kind") == "escalation" else attrs.get("owner_email")
        print(f"\n  {BOLD}To: {to}   [{attrs.get('kind')}; owner_team={attrs.get('owner_team')}]{END}")
        print(f"  Subject: {m.get('Subject')}")
        print(indent(m["Message"].rstrip()))
        all_links += re.findall(r"Confirm in one click: (\S+/verify/\S+)", m["Message"])
    print(f"\n  reminders sent: {len(reminders)}; escalations sent: {len(escalations)}")
    if len(all_links) < 2:
        fail(f"expected one-click links in the reminders, found {len(all_links)}")
    status, _, page = http("POST", all_links[0], None, {"content-type": "application/x-www-form-urlencoded"})
    ok = status == 200 and "Thank you" in page
    print(f"  The owner confirms the first contact with the e-mail's one-click link: POST -> {status}"
          f"{' (contact verified, recorded with verified_via=link)' if ok else ''}")
    if not ok:
        fail(f"the one-click link answered {status}")
    changed(all_links[1])


def changed(link):
    """The second contact's number changed: the owner corrects it on the link's page ("It changed")."""
    status, _, page = http("GET", link)
    field = lambda name: html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))
    if status != 200 or 'name="version"' not in page:
        fail(f"the verification page has no 'It changed' form: {status}")
    role = re.search(r'<option value="([^"]+)" selected', page).group(1)
    form = {"version": field("version"), "name": field("name"), "email": field("email"),
            "phone": "+12065550199", "role": role}
    print(f"\n  The second contact's phone changed: the owner opens the same link (GET changes nothing) and uses"
          f"\n  'It changed' on the page: {field('name')}, phone {field('phone') or '(none)'} -> {form['phone']}")
    body = urllib.parse.urlencode(form).encode()
    for attempt in ("POST", "POST again (the same form)"):
        req = urllib.request.Request(f"{link}/change", data=body, method="POST",
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=60) as r:
            title = re.search(r"<title>([^<]*) - support-plans", r.read().decode()).group(1)
            print(f"    {attempt} /verify/…/change -> {r.status} {title}")
    plan_id = re.search(r"<code>([a-z0-9-]+)</code>", page).group(1)
    team = next(p["owner"]["team"] for p in samples("plans") if p["id"] == plan_id)
    _, _, text = http("GET", f"{API}/plans/{plan_id}/history?limit=2", headers=caller(team))
    for rev in json.loads(text).get("items", []):
        phones = [c.get("phone") for c in rev["record"]["contacts"] if c["name"] == form["name"]]
        print(f"    GET /plans/{plan_id}/history: version {rev['version']} ({json.dumps(rev['change'])}, by {rev['by']}): "
              f"phone {phones[0] if phones else None}")


def readiness():
    step(16, "Readiness, as an operations lead looks at it (support-plans readiness: GET /readiness, drawn)",
         "The same figures go to CloudWatch as EMF metrics. The support-plans command reads them, prints "
         "them and draws them as a chart a browser opens: a bar per figure, red where it is a gap, amber "
         "where one is coming due, green where there is none.")
    status, _, text = http("GET", f"{API}/readiness", headers=caller("platform"))
    if status != 200:
        fail(f"GET /readiness: {status} {text}")
    figures = json.loads(text)
    if figures.get("owners_unreachable") != 1:
        fail(f"readiness should count the one owner who has not confirmed: {figures}")
    chart = os.path.join(ROOT, "target", "demo", "readiness.svg")
    if os.path.exists(chart):
        os.remove(chart)
    cli = os.path.join(ROOT, "target", "debug", "support-plans")
    args = ["readiness", "--endpoint", API, "--as", "lead@platform.example.com", "--groups", "platform",
            "--svg", chart]
    shown = " ".join(args).replace(API, "$API_URL").replace(ROOT + os.sep, "")
    print(f"  $ support-plans {shown}")
    run = subprocess.run([cli, *args], capture_output=True, text=True)
    for line in (run.stdout + run.stderr).replace(ROOT + os.sep, "").splitlines():
        print(f"    {line}")
    if run.returncode != 0 or not os.path.exists(chart) or not os.path.getsize(chart):
        fail(f"support-plans readiness exited {run.returncode} without the chart {chart}")
    print(f"\n  {BOLD}The chart: {os.path.relpath(chart, ROOT)}{END} (open it in a browser)")
    return figures


def main():
    im = boto3.client("ssm-incidents")
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    load_samples()
    plan_arn, chat_queue = response_plan(im, sns, sqs)
    arn = incident(im, plan_arn, chat_queue, sqs)
    follow = follow_through(im, arn)
    aws_case(im, arn)
    responded(im, arn, follow)
    pagerduty(sqs)
    emails(*freshness(sqs))
    readiness()


if __name__ == "__main__":
    main()

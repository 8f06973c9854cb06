"""With the local stack up and the samples loaded: start an incident the way
an operator would (the SDK against the emulator), and wait for the vendor
steps to appear in its timeline, posted by the responder without any other
command (the emulator delivered the event to it).

Prints the notes and exits non-zero when they do not appear in time.
"""

import sys
import time

import boto3

RDS = "arn:aws:rds:us-east-1:111122223333:db:payments-main"


def main() -> int:
    im = boto3.client("ssm-incidents")
    try:
        plan = im.get_response_plan(
            arn=f"arn:aws:ssm-incidents::111122223333:response-plan/payments-critical"
        )["arn"]
    except im.exceptions.ResourceNotFoundException:
        plan = im.create_response_plan(
            name="payments-critical",
            incidentTemplate={"title": "Payments incident", "impact": 1},
        )["arn"]
    arn = im.start_incident(
        responsePlanArn=plan,
        title="Card payments failing",
        impact=1,
        relatedItems=[{"identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": RDS}}}],
    )["incidentRecordArn"]
    print(f"started {arn}")
    deadline = time.time() + 120
    notes = []
    while time.time() < deadline:
        events = im.list_timeline_events(incidentRecordArn=arn)["eventSummaries"]
        notes = [e for e in events if e["eventType"] == "Note"]
        if len(notes) >= 4:
            break
        time.sleep(0.5)
    for n in notes:
        event = im.get_timeline_event(incidentRecordArn=arn, eventId=n["eventId"])["event"]
        print("---")
        print(event["eventData"][:400])
    links = im.list_related_items(incidentRecordArn=arn)["relatedItems"]
    print("--- related items:", [i.get("title") for i in links])
    if len(notes) < 4:
        print(f"incident story: 0 passed, 1 failed (got {len(notes)} notes)")
        return 1
    print("incident story: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

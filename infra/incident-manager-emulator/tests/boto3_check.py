"""An independent client: plain boto3 (botocore's own ssm-incidents model)
against a running emulator. boto3 finds it through AWS_ENDPOINT_URL_SSM_INCIDENTS.

Run by boto3_check.sh, which starts the emulator binary. Prints one line per
check and a final `boto3 client: N passed, M failed`; exits non-zero on any
failure.
"""

import datetime
import sys
import traceback

import boto3
from botocore.config import Config

ACCOUNT = "111122223333"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
CHAT = f"arn:aws:sns:us-east-1:{ACCOUNT}:chat"

client = boto3.client("ssm-incidents", config=Config(retries={"max_attempts": 1}))
state = {}


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except client.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{call.__name__} should have failed")


def check_create_response_plan():
    arn = client.create_response_plan(
        name="boto3-plan",
        displayName="Boto3 plan",
        incidentTemplate={
            "title": "Orders down",
            "impact": 2,
            "summary": "Checkout failing",
            "incidentTags": {"team": "payments"},
        },
        chatChannel={"chatbotSns": [CHAT]},
    )["arn"]
    assert arn == f"arn:aws:ssm-incidents::{ACCOUNT}:response-plan/boto3-plan", arn
    plan = client.get_response_plan(arn=arn)
    assert plan["name"] == "boto3-plan", plan
    assert plan["incidentTemplate"]["impact"] == 2, plan
    assert plan["chatChannel"] == {"chatbotSns": [CHAT]}, plan
    code = error_code(client.create_response_plan, name="boto3-plan", incidentTemplate={"title": "x", "impact": 3})
    assert code == ("ConflictException", 409), code
    state["plan"] = arn


def check_start_incident():
    arn = client.start_incident(
        responsePlanArn=state["plan"],
        impact=1,
        relatedItems=[{"identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": TABLE}}, "title": "orders table"}],
        triggerDetails={"source": "support-plans.boto3", "timestamp": datetime.datetime.now(datetime.timezone.utc)},
    )["incidentRecordArn"]
    assert arn.startswith(f"arn:aws:ssm-incidents::{ACCOUNT}:incident-record/boto3-plan/"), arn
    record = client.get_incident_record(arn=arn)["incidentRecord"]
    assert record["status"] == "OPEN", record
    assert record["title"] == "Orders down" and record["impact"] == 1, record
    assert record["summary"] == "Checkout failing", record
    assert record["incidentRecordSource"]["source"] == "support-plans.boto3", record
    assert isinstance(record["creationTime"], datetime.datetime), record
    assert record["chatChannel"] == {"chatbotSns": [CHAT]}, record
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "payments"}
    code = error_code(client.get_incident_record, arn=arn + "-missing")
    assert code == ("ResourceNotFoundException", 404), code
    state["incident"] = arn


def check_create_timeline_event():
    arn = state["incident"]
    out = client.create_timeline_event(
        incidentRecordArn=arn,
        eventTime=datetime.datetime.now(datetime.timezone.utc),
        eventType="Note",
        eventData="Vendor: AWS (Business). Open a Sev-1 case.",
        eventReferences=[{"resource": arn}],
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201, out
    event = client.get_timeline_event(incidentRecordArn=arn, eventId=out["eventId"])["event"]
    assert event["eventType"] == "Note" and event["eventData"].startswith("Vendor: AWS"), event
    assert event["eventReferences"] == [{"resource": arn}], event
    code = error_code(
        client.create_timeline_event,
        incidentRecordArn=arn,
        eventTime=datetime.datetime.now(datetime.timezone.utc),
        eventType="Note",
        eventData="x" * 12001,
    )
    assert code == ("ValidationException", 400), code
    state["note"] = out["eventId"]


def check_update_related_items():
    arn = state["incident"]
    item = {"identifier": {"type": "OTHER", "value": {"url": "https://support.example/case"}}, "title": "Open a case: AWS (Business)"}
    out = client.update_related_items(incidentRecordArn=arn, relatedItemsUpdate={"itemToAdd": item})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204, out
    code = error_code(client.update_related_items, incidentRecordArn=arn, relatedItemsUpdate={"itemToAdd": item})
    assert code == ("ConflictException", 409), code


def check_list_incident_records():
    pages = client.get_paginator("list_incident_records").paginate(
        filters=[{"key": "status", "condition": {"equals": {"stringValues": ["OPEN"]}}}],
        PaginationConfig={"PageSize": 1},
    )
    arns = [s["arn"] for page in pages for s in page["incidentRecordSummaries"]]
    assert arns == [state["incident"]], arns
    resolved = client.list_incident_records(
        filters=[{"key": "status", "condition": {"equals": {"stringValues": ["RESOLVED"]}}}]
    )["incidentRecordSummaries"]
    assert resolved == [], resolved


def check_list_timeline_events_and_related_items():
    arn = state["incident"]
    events = client.list_timeline_events(incidentRecordArn=arn, sortBy="EVENT_TIME", sortOrder="ASCENDING")["eventSummaries"]
    types = sorted(e["eventType"] for e in events)
    assert types == ["Custom Event", "Note"], events
    assert state["note"] in [e["eventId"] for e in events], events
    notes = client.list_timeline_events(
        incidentRecordArn=arn,
        filters=[{"key": "eventType", "condition": {"equals": {"stringValues": ["Note"]}}}],
    )["eventSummaries"]
    assert [e["eventId"] for e in notes] == [state["note"]], notes
    items = client.list_related_items(incidentRecordArn=arn)["relatedItems"]
    values = [(i["identifier"]["type"], i["identifier"]["value"]) for i in items]
    assert values == [
        ("INVOLVED_RESOURCE", {"arn": TABLE}),
        ("OTHER", {"url": "https://support.example/case"}),
    ], values
    assert all(i["generatedId"].startswith("related-item/") for i in items), items


CHECKS = [
    check_create_response_plan,
    check_start_incident,
    check_create_timeline_event,
    check_update_related_items,
    check_list_incident_records,
    check_list_timeline_events_and_related_items,
]


def main():
    passed = failed = 0
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            check()
        except Exception:  # report every check, then fail overall
            failed += 1
            print(f"FAIL {name}\n{traceback.format_exc()}")
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"boto3 client: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

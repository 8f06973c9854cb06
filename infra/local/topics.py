"""The freshness check's part of the local stack, on moto (run by up.sh).

Creates what template.yaml creates for it in AWS: the reminder and escalation
SNS topics and the one-click verification key in Secrets Manager (64 letters
and digits, as GenerateSecretString makes it). Likewise the "vendor responded"
links' key (SPEC §13), which incident-hooks verifies and the responder signs with. Then subscribes one SQS queue to
each topic, raw message delivery off, so that each queued message is the SNS
envelope with its Subject and MessageAttributes: what a person or a test reads.

Also the incident responder's summary topic with its queue, and the secrets
of the incident sources beyond Incident Manager (SPEC §11), which template.yaml
creates empty for the operator to fill: the PagerDuty REST API token the
responder posts notes with, the PagerDuty webhook subscription's secret and the
generic webhook's Standard Webhooks secret, which the incident-hooks function
verifies deliveries with. Locally each is a fresh random value, also printed
(PAGERDUTY_TOKEN, PAGERDUTY_WEBHOOK_SECRET, INCIDENT_WEBHOOK_SECRET) so that the
stand-in and any local client can sign and authenticate as the real ones would.

Prints KEY=VALUE lines: REMINDER_TOPIC_ARN, ESCALATION_TOPIC_ARN,
REMINDER_QUEUE_URL, ESCALATION_QUEUE_URL, VERIFY_KEY_SECRET_ARN, RESPONDED_KEY_SECRET_ARN,
INCIDENT_TOPIC_ARN, INCIDENT_QUEUE_URL, and for each of the three secrets its
value and its ARN (PAGERDUTY_TOKEN_SECRET_ARN, PAGERDUTY_WEBHOOK_SECRET_ARN,
INCIDENT_WEBHOOK_SECRET_ARN).
Endpoint, region and credentials come from the environment (.local/env).
"""

import base64
import secrets
import string
import sys

import boto3

PREFIX = "support-plans"


def topic_with_queue(sns, sqs, name):
    topic_arn = sns.create_topic(Name=f"{PREFIX}-{name}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{PREFIX}-{name}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "false"},
    )
    return topic_arn, queue_url


def main():
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    sm = boto3.client("secretsmanager")
    reminder_topic, reminder_queue = topic_with_queue(sns, sqs, "reminders")
    escalation_topic, escalation_queue = topic_with_queue(sns, sqs, "escalations")
    # The incident responder's summary topic (INCIDENT_TOPIC_ARN).
    incident_topic, incident_queue = topic_with_queue(sns, sqs, "incidents")
    alphabet = string.ascii_letters + string.digits
    key = "".join(secrets.choice(alphabet) for _ in range(64))
    secret_arn = sm.create_secret(
        Name=f"{PREFIX}/verify-key",
        Description="HMAC-SHA256 key of the one-click verification links (local stack)",
        SecretString=key,
    )["ARN"]
    # A key of its own, never the verification key: either may be rotated alone.
    responded_key = "".join(secrets.choice(alphabet) for _ in range(64))
    responded_arn = sm.create_secret(
        Name=f"{PREFIX}/responded-link-key",
        Description='HMAC-SHA256 key of the follow-up notes\' "vendor responded" links (local stack)',
        SecretString=responded_key,
    )["ARN"]
    # PagerDuty shows a webhook subscription's secret as 64 letters and digits;
    # its REST API keys are 20 characters. A Standard Webhooks secret is
    # whsec_ and the base64 of at least 24 random bytes (32 here).
    pd_token = "".join(secrets.choice(alphabet) for _ in range(20))
    pd_webhook = "".join(secrets.choice(alphabet) for _ in range(64))
    incident_webhook = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    sources = {}
    for env, arn_env, name, value, what in [
        ("PAGERDUTY_TOKEN", "PAGERDUTY_TOKEN_SECRET_ARN", "pagerduty-token", pd_token, "PagerDuty REST API token"),
        (
            "PAGERDUTY_WEBHOOK_SECRET",
            "PAGERDUTY_WEBHOOK_SECRET_ARN",
            "pagerduty-webhook",
            pd_webhook,
            "PagerDuty webhook subscription secret",
        ),
        (
            "INCIDENT_WEBHOOK_SECRET",
            "INCIDENT_WEBHOOK_SECRET_ARN",
            "incident-webhook",
            incident_webhook,
            "generic incident webhook secret",
        ),
    ]:
        arn = sm.create_secret(Name=f"{PREFIX}/{name}", Description=f"{what} (local stack)", SecretString=value)["ARN"]
        sources[env] = value
        sources[arn_env] = arn
    for name, value in [
        ("REMINDER_TOPIC_ARN", reminder_topic),
        ("ESCALATION_TOPIC_ARN", escalation_topic),
        ("REMINDER_QUEUE_URL", reminder_queue),
        ("ESCALATION_QUEUE_URL", escalation_queue),
        ("VERIFY_KEY_SECRET_ARN", secret_arn),
        ("RESPONDED_KEY_SECRET_ARN", responded_arn),
        ("INCIDENT_TOPIC_ARN", incident_topic),
        ("INCIDENT_QUEUE_URL", incident_queue),
        *sources.items(),
    ]:
        print(f"{name}={value}")


if __name__ == "__main__":
    sys.exit(main())

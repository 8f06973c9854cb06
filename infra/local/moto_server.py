"""moto in server mode on a free loopback port, one request at a time.

moto's backends take no locks: a thread switch between a condition check and
its write could let two concurrent conditional writes both pass, which
DynamoDB itself never allows. Races are rare under the GIL (20 concurrent
replaces behaved on stock moto in 6 of 6 runs), but the tests of optimistic
concurrency must not depend on luck, so requests are serialized here.

Usage: python moto_server.py --port-file PATH [--host 127.0.0.1]
The chosen port is written to PATH once the server is listening.

Two things DynamoDB does that moto does not, added here because the store's
retries depend on them:
- TransactWriteItems with a ClientRequestToken is idempotent for 10 minutes:
  the same token with the same parameters answers as the first call did and
  changes nothing; with other parameters it is refused with
  IdempotentParameterMismatchException (the DynamoDB API reference).
- A fault for tests, scoped to one table so that parallel tests do not feel
  it: `POST /_support_plans/lose-answers {"table": T, "count": n}` makes the
  next n TransactWriteItems on table T commit and then answer 500, as a write
  whose answer was lost on the way back; the SDK then retries it.

AWS Support (SPEC §13, the responder's case opening), where moto fakes more
than it serves; its backend's methods are replaced at import (`patch_support`):
- moto advances every case's status and severity on each DescribeCases (a
  fake progression for its own tests): here DescribeCases changes nothing, so
  a case reads back as it was opened; ResolveCase resolves it.
- moto gives every case the display id `foo_display_id`: here each case gets
  its own 10-digit number, as the Support Center shows.
- moto ignores DescribeCases' afterTime, beforeTime, displayId, maxResults and
  nextToken (it echoes the token): here they filter and page (afterTime and
  beforeTime on the case's creation time, RFC 3339; pages of maxResults,
  10..100, default 100), and an unknown id in caseIdList answers
  CaseIdNotFound (400) instead of moto's 500.
- cases' timeCreated is UTC RFC 3339 (`2024-05-01T12:00:00.000Z`), not moto's
  local time without a zone.
- moto accepts any serviceCode, categoryCode and severityCode (the real API
  refuses codes that DescribeServices and DescribeSeverityLevels do not list);
  that is left as it is, so tests cannot check it here.
- A fault for tests, scoped to one service code so that parallel tests do
  not feel it: `POST /_support_plans/support-subscription {"service_code": S,
  "required": true}` makes every CreateCase with serviceCode S answer HTTP 400
  SubscriptionRequiredException, as the API answers an account without
  Business, Enterprise On-Ramp or Enterprise Support (which the real API
  answers to every call, DescribeCases included; DescribeCases names no
  service code, so here only CreateCase is refused); `"required": false`
  lifts it.

SNS (SPEC §14, the freshness check's subscription upkeep), where moto treats
every subscription as confirmed; its backend and responses are patched at
import (`patch_sns`):
- an `email` or `email-json` subscription is pending until its owner follows
  the link SNS e-mails: ListSubscriptionsByTopic and ListSubscriptions list
  its SubscriptionArn as `PendingConfirmation`, GetSubscriptionAttributes
  says PendingConfirmation `true`, Subscribe answers `pending confirmation`
  unless ReturnSubscriptionArn is true (then the real ARN), and it receives
  no publishes (moto delivers nothing to e-mail endpoints anyway). Other
  protocols stay confirmed at once, as moto has them (SQS and Lambda in the
  same account are, in SNS; http/https would need their endpoint to confirm,
  which moto does not model).
- Subscribe for a topic, protocol and endpoint that already exist answers the
  same subscription if every attribute the request gives matches it (an
  attribute it does not give is not compared; FilterPolicy compared as JSON),
  and otherwise InvalidParameter "Invalid parameter: Attributes Reason:
  Subscription already exists with different attributes" (moto silently
  overwrote the existing subscription's attributes). A new subscription
  whose attributes are refused (an invalid filter policy) is not left behind.
- ListSubscriptionsByTopic and ListSubscriptions page by 100 and give a
  NextToken only when more remain (moto gave one after any full page, so 100
  subscriptions took two calls); a NextToken this server did not give is
  InvalidParameter (moto answered 500).
- ConfirmSubscription answers InvalidParameter "Invalid parameter: Token"
  (moto answered a made-up ARN for any token and confirmed nothing): no
  confirmation e-mail, so no token, ever leaves this server. Confirm with the
  hook below instead.
- Unsubscribe and GetSubscriptionAttributes refuse an ARN that is not one
  (`PendingConfirmation`, say) with InvalidParameter "Invalid parameter:
  SubscriptionArn Reason: An ARN must have at least 6 elements, not N".
- Kept as moto has them, as SNS does them: Unsubscribe of an ARN SNS does not
  have succeeds and changes nothing (the API reference lists NotFound, but
  SNS answers success: moto issue 3000, checked against AWS), and a pending
  subscription can be unsubscribed by its ARN; GetSubscriptionAttributes of
  an unknown ARN is NotFound and gives FilterPolicy when one is set.
- Not modelled: SNS deletes a subscription still pending after 48 hours.
- A hook for tests and the demo, as the owner following SNS's link would:
  `POST /_support_plans/sns-confirm {"topic_arn": T, "endpoint": E}` confirms
  the pending subscriptions of endpoint E on topic T and answers
  `{"confirmed": [ARN, ...]}` (empty when none was pending; 404 for a topic
  that does not exist).

AWS Config (SPEC §15, the readiness rule), where moto keeps rules but no
evaluations: PutEvaluations works only with TestMode, and there is no
GetComplianceDetailsByConfigRule. Patched at import (`patch_config`):
- PutConfigRule of a CUSTOM_LAMBDA rule accepts, besides moto's own Lambda
  functions, the functions `cargo lambda watch` serves (LOCAL_FUNCTIONS, by
  their ARN in the rule's account and region): AWS checks that Config may
  invoke the function; moto, that its Lambda has it.
- Config invoking a rule's function is this hook, for tests and the demo:
  `POST /_support_plans/config-rule-event {"config_rule_name": R, "region"?,
  "account_id"?}` answers the event AWS Config sends a periodic custom rule's
  function (messageType ScheduledNotification, notificationCreationTime now,
  configRuleName, configRuleArn, configRuleId, accountId, ruleParameters)
  with a fresh result token bound to that rule; the caller invokes the
  function with it. A rule that does not exist, or is not a periodic custom
  rule, is refused (400, NoSuchConfigRuleException or
  InvalidParameterValueException).
- PutEvaluations: at most 100 evaluations, each with ComplianceResourceType
  (1-256 characters), ComplianceResourceId (1-768), ComplianceType
  (COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE: INSUFFICIENT_DATA is refused,
  as Config refuses it from a rule's function), Annotation (1-256
  characters, counted as characters) and OrderingTimestamp, else
  ValidationException or InvalidParameterValueException; a token this
  server did not issue is InvalidResultTokenException, one of a rule deleted
  since is NoSuchConfigRuleException. With TestMode, checked and kept
  nowhere. Otherwise each evaluation is kept as the rule's result for its
  resource, unless the one kept has a later OrderingTimestamp; FailedEvaluations
  is always empty. Deleting the rule deletes its results.
- GetComplianceDetailsByConfigRule reads them back (ComplianceTypes filter,
  Limit 0-100 with 0 the default 10, NextToken), in Config's shape
  (EvaluationResultIdentifier with its qualifier, EvaluationMode DETECTIVE,
  OrderingTimestamp, ResultRecordedTime, ConfigRuleInvokedTime, Annotation).
- Not modelled: the configuration recorder a rule needs
  (NoAvailableConfigurationRecorderException: moto takes a rule without
  one), Config invoking the function on its own schedule, the rule's
  compliance summaries (DescribeComplianceByConfigRule and the like), and
  Config's exact error messages (the codes and shapes are the API's).
"""

import argparse
import hashlib
import io
import json
import os
import signal
import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import make_server


IDEMPOTENCY_WINDOW_S = 600

SUPPORT_TARGET = "AWSSupport_20130415."
SUBSCRIPTION_REQUIRED = "AWS Premium Support Subscription is required to use this service."


def patch_support():
    """Makes moto's Support backend faithful where the responder relies on it (module doc)."""
    import datetime as dt

    from moto.core.exceptions import JsonRESTError
    from moto.moto_api._internal import mock_random as random
    from moto.support import models, responses

    def rfc3339(t):
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    def parse_time(text, name):
        try:
            t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            raise JsonRESTError("ValidationException", f"{name} {text!r} is not a date and time")
        return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)

    original_init = models.SupportCase.__init__
    display_ids = set()

    def case_init(self, **kwargs):
        original_init(self, **kwargs)
        self.display_id = None
        while self.display_id is None or self.display_id in display_ids:
            self.display_id = str(random.randint(1_000_000_000, 9_999_999_999))
        display_ids.add(self.display_id)
        self.created = dt.datetime.now(dt.timezone.utc)
        self.time_created = rfc3339(self.created)
        for communication in self.communications["recentCommunications"]["communications"]:
            communication["timeCreated"] = self.time_created

    def resolve_case(self, case_id):
        if case_id not in self.cases:
            raise JsonRESTError("CaseIdNotFound", f"no case {case_id}")
        case = self.cases[case_id]
        initial = case.status
        case.status = "resolved"
        return {"initialCaseStatus": initial, "finalCaseStatus": "resolved"}

    def describe_cases(self, case_id_list=None, display_id=None, after_time=None, before_time=None,
                       include_resolved_cases=False, next_token=None, max_results=None,
                       include_communications=True):
        for case_id in case_id_list or []:
            if case_id not in self.cases:
                raise JsonRESTError("CaseIdNotFound", f"no case {case_id}")
        after = parse_time(after_time, "afterTime") if after_time else None
        before = parse_time(before_time, "beforeTime") if before_time else None
        size = int(max_results or 100)
        if not 10 <= size <= 100:
            raise JsonRESTError("ValidationException", f"maxResults {size} is not within 10..100")
        try:
            start = int(next_token or 0)
        except ValueError:
            raise JsonRESTError("ValidationException", f"nextToken {next_token!r} is not one this service gave")
        chosen = []
        for case_id in case_id_list or list(self.cases):
            case = self.cases[case_id]
            if display_id and case.display_id != display_id:
                continue
            if (after and case.created < after) or (before and case.created > before):
                continue
            if not include_resolved_cases and case.status == "resolved":
                continue
            chosen.append(case)
        answer = []
        for case in chosen[start:start + size]:
            formatted = {
                "caseId": case.case_id,
                "displayId": case.display_id,
                "subject": case.subject,
                "status": case.status,
                "serviceCode": case.service_code,
                "categoryCode": case.category_code,
                "severityCode": case.severity_code,
                "submittedBy": case.submitted_by,
                "timeCreated": case.time_created,
                "ccEmailAddresses": case.cc_email_addresses,
                "language": case.language,
            }
            if include_communications:
                formatted.update(case.communications)
            answer.append(formatted)
        more = start + size < len(chosen)
        return {"cases": answer, **({"nextToken": str(start + size)} if more else {})}

    def describe_cases_response(self):
        return json.dumps(
            self.support_backend.describe_cases(
                case_id_list=self._get_param("caseIdList"),
                display_id=self._get_param("displayId"),
                after_time=self._get_param("afterTime"),
                before_time=self._get_param("beforeTime"),
                include_resolved_cases=self._get_param("includeResolvedCases", False),
                next_token=self._get_param("nextToken"),
                max_results=self._get_param("maxResults"),
                include_communications=self._get_param("includeCommunications", True),
            )
        )

    models.SupportCase.__init__ = case_init
    models.SupportBackend.resolve_case = resolve_case
    models.SupportBackend.describe_cases = describe_cases
    responses.SupportResponse.describe_cases = describe_cases_response


patch_support()

# Protocols whose subscriptions wait for their owner to confirm (module doc).
CONFIRMED_BY_OWNER = ("email", "email-json")
SNS_PAGE = 100
ALREADY_EXISTS = "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"


def same_attribute(name, old, new):
    """Whether a Subscribe's attribute `new` matches the subscription's `old`."""
    if name == "FilterPolicy":
        def parsed(v):
            try:
                return json.loads(v) if v else None
            except (TypeError, ValueError):
                return v
        return parsed(old) == parsed(new)
    defaults = {"FilterPolicyScope": "MessageAttributes", "RawMessageDelivery": "false"}
    old = defaults.get(name) if old is None else old
    if isinstance(old, bool) or isinstance(new, bool):
        return str(old).lower() == str(new).lower()
    return old == new


def patch_sns():
    """Makes moto's SNS faithful where subscription upkeep relies on it (module doc)."""
    from moto.core.responses import ActionResult
    from moto.sns import models, responses
    from moto.sns.exceptions import SNSInvalidParameter

    def check_arn(arn):
        parts = str(arn or "").split(":")
        if len(parts) < 6:
            raise SNSInvalidParameter(
                f"Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not {len(parts)}"
            )

    def is_pending(subscription):
        return getattr(subscription, "pending", False)

    def listed(subscription):
        return {
            "SubscriptionArn": "PendingConfirmation" if is_pending(subscription) else subscription.arn,
            "Owner": subscription.owner,
            "Protocol": subscription.protocol,
            "Endpoint": subscription.endpoint,
            "TopicArn": subscription.topic.arn,
        }

    def page(subscriptions, next_token):
        try:
            start = int(next_token or 0)
            if start < 0:
                raise ValueError(next_token)
        except ValueError:
            raise SNSInvalidParameter("Invalid parameter: NextToken")
        chosen = [listed(s) for s in subscriptions[start:start + SNS_PAGE]]
        more = start + SNS_PAGE < len(subscriptions)
        return ActionResult({"Subscriptions": chosen, **({"NextToken": str(start + SNS_PAGE)} if more else {})})

    def list_subscriptions_by_topic(self):
        topic = self.backend.get_topic(self._get_param("TopicArn"))
        subscriptions = [s for s in self.backend.subscriptions.values() if s.topic == topic]
        return page(subscriptions, self._get_param("NextToken"))

    def list_subscriptions(self):
        return page(list(self.backend.subscriptions.values()), self._get_param("NextToken"))

    def subscribe(self):
        topic_arn = self._get_param("TopicArn")
        endpoint = self._get_param("Endpoint")
        protocol = self._get_param("Protocol")
        attributes = self._get_attributes() or {}
        return_arn = self._get_bool_param("ReturnSubscriptionArn", False)
        self.backend.get_topic(topic_arn)
        existing = self.backend._find_subscription(topic_arn, endpoint, protocol)
        if existing is not None:
            for name, value in attributes.items():
                if not same_attribute(name, existing.attributes.get(name), value):
                    raise SNSInvalidParameter(ALREADY_EXISTS)
            subscription = existing
        else:
            subscription = self.backend.subscribe(topic_arn, endpoint, protocol)
            try:
                # The scope first: the filter policy is checked against it.
                ordered = sorted(attributes.items(), key=lambda kv: kv[0] != "FilterPolicyScope")
                for name, value in ordered:
                    self.backend.set_subscription_attributes(subscription.arn, name, value)
            except json.JSONDecodeError:
                # moto lets a filter policy that is not JSON through as a 500.
                self.backend.subscriptions.pop(subscription.arn, None)
                raise SNSInvalidParameter("Invalid parameter: FilterPolicy: failed to parse JSON.")
            except Exception:
                self.backend.subscriptions.pop(subscription.arn, None)
                raise
            subscription.pending = protocol in CONFIRMED_BY_OWNER
            subscription.confirmed = not subscription.pending
            subscription.attributes["PendingConfirmation"] = subscription.pending
            subscription.attributes["ConfirmationWasAuthenticated"] = not subscription.pending
        arn = subscription.arn if return_arn or not is_pending(subscription) else "pending confirmation"
        return ActionResult({"SubscriptionArn": arn})

    def confirm_subscription(self):
        self.backend.get_topic(self._get_param("TopicArn"))
        raise SNSInvalidParameter("Invalid parameter: Token")

    original_unsubscribe = models.SNSBackend.unsubscribe
    original_attributes = models.SNSBackend.get_subscription_attributes
    original_publish = models.Subscription.publish

    def unsubscribe(self, subscription_arn):
        check_arn(subscription_arn)
        return original_unsubscribe(self, subscription_arn)

    def get_subscription_attributes(self, arn):
        check_arn(arn)
        return original_attributes(self, arn)

    def publish(self, *args, **kwargs):
        if is_pending(self):
            return None
        return original_publish(self, *args, **kwargs)

    responses.SNSResponse.list_subscriptions_by_topic = list_subscriptions_by_topic
    responses.SNSResponse.list_subscriptions = list_subscriptions
    responses.SNSResponse.subscribe = subscribe
    responses.SNSResponse.confirm_subscription = confirm_subscription
    models.SNSBackend.unsubscribe = unsubscribe
    models.SNSBackend.get_subscription_attributes = get_subscription_attributes
    models.Subscription.publish = publish


patch_sns()


# The functions `cargo lambda watch` serves (infra/local/up.sh): a rule may
# name them as its function, by their ARN in its account and region.
LOCAL_FUNCTIONS = ("plans-api", "freshness-check", "incident-responder", "incident-hooks")
COMPLIANCE_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA")
# What a rule's function may put (Config refuses INSUFFICIENT_DATA from it).
PUT_COMPLIANCE_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")


class ConfigState:
    """The result tokens issued and the evaluations kept (see the module doc)."""

    def __init__(self):
        self.tokens = {}  # token -> (account, region, rule name, rule id, invoked at)
        self.results = {}  # (account, region, rule id) -> {(type, id): result}


CONFIG = ConfigState()


def utc_now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


def patch_config():
    """Makes moto's Config keep a rule's evaluations (module doc)."""
    from moto.awslambda import utils as lambda_utils
    from moto.config import models, responses
    from moto.config.exceptions import (
        InvalidNextTokenException,
        InvalidParameterValueException,
        InvalidResultTokenException,
        NoSuchConfigRuleException,
        ValidationException,
    )

    class LocalFunctions:
        """What Source asks of moto's Lambda backend, for a local function."""

        def get_function(self, arn):
            return arn

    original_source_init = models.Source.__init__

    def is_local_function(arn, account_id, region):
        prefix = f"arn:aws:lambda:{region}:{account_id}:function:"
        return isinstance(arn, str) and arn.startswith(prefix) and arn[len(prefix):] in LOCAL_FUNCTIONS

    def source_init(self, account_id, region, owner, source_identifier, source_details=None):
        if owner != "CUSTOM_LAMBDA" or not is_local_function(source_identifier, account_id, region):
            return original_source_init(self, account_id, region, owner, source_identifier, source_details)
        real = lambda_utils.get_backend
        lambda_utils.get_backend = lambda *args: LocalFunctions()
        try:
            return original_source_init(self, account_id, region, owner, source_identifier, source_details)
        finally:
            lambda_utils.get_backend = real

    def too_long(value, where, most):
        return ValidationException(
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {most}"
        )

    def too_short(where):
        return ValidationException(
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )

    def checked(evaluations):
        if len(evaluations) > 100:
            raise too_long("[...]", "evaluations", 100)
        out = []
        for n, e in enumerate(evaluations, start=1):
            where = f"evaluations.{n}.member"
            if not isinstance(e, dict):
                raise ValidationException(f"1 validation error detected: {where} is not a structure")
            for field, most in (("ComplianceResourceType", 256), ("ComplianceResourceId", 768)):
                value = e.get(field)
                if not isinstance(value, str) or not value:
                    raise too_short(f"{where}.{field[0].lower() + field[1:]}")
                if len(value) > most:
                    raise too_long(value, f"{where}.{field[0].lower() + field[1:]}", most)
            kind = e.get("ComplianceType")
            if kind not in COMPLIANCE_TYPES:
                raise ValidationException(
                    f"1 validation error detected: Value '{kind}' at '{where}.complianceType' failed to satisfy "
                    f"constraint: Member must satisfy enum value set: [{', '.join(COMPLIANCE_TYPES)}]"
                )
            if kind not in PUT_COMPLIANCE_TYPES:
                raise InvalidParameterValueException(
                    f"The ComplianceType {kind} is not valid in PutEvaluations: use "
                    f"{', '.join(PUT_COMPLIANCE_TYPES)}"
                )
            annotation = e.get("Annotation")
            if annotation is not None:
                if not isinstance(annotation, str) or not annotation:
                    raise too_short(f"{where}.annotation")
                if len(annotation) > 256:
                    raise too_long(annotation, f"{where}.annotation", 256)
            ordering = e.get("OrderingTimestamp")
            if not isinstance(ordering, (int, float)) or isinstance(ordering, bool):
                raise ValidationException(
                    f"1 validation error detected: Value at '{where}.orderingTimestamp' failed to satisfy "
                    "constraint: Member must not be null"
                )
            out.append(e)
        return out

    def put_evaluations(self):
        evaluations = self._get_param("Evaluations")
        token = self._get_param("ResultToken")
        test_mode = self._get_param("TestMode") or False
        if not evaluations:
            # As moto has it (the API reference allows none; nobody sends none here).
            raise InvalidParameterValueException(
                "The Evaluations object in your request cannot be null."
                "Add the required parameters and try again."
            )
        if not token:
            raise InvalidResultTokenException()
        evaluations = checked(evaluations)
        if test_mode:
            return json.dumps({"FailedEvaluations": []})
        issued = CONFIG.tokens.get(token)
        if issued is None or issued[:2] != (self.current_account, self.region):
            raise InvalidResultTokenException()
        account, region, name, rule_id, invoked_at = issued
        rule = self.config_backend.config_rules.get(name)
        if rule is None or rule.config_rule_id != rule_id:
            raise NoSuchConfigRuleException(name)
        kept = CONFIG.results.setdefault((account, region, rule_id), {})
        recorded = utc_now().timestamp()
        for e in evaluations:
            key = (e["ComplianceResourceType"], e["ComplianceResourceId"])
            before = kept.get(key)
            if before is not None and before["OrderingTimestamp"] > e["OrderingTimestamp"]:
                continue
            kept[key] = {
                "ConfigRuleName": name,
                "ResourceType": key[0],
                "ResourceId": key[1],
                "ComplianceType": e["ComplianceType"],
                "Annotation": e.get("Annotation"),
                "OrderingTimestamp": e["OrderingTimestamp"],
                "ResultRecordedTime": recorded,
                "ConfigRuleInvokedTime": invoked_at,
            }
        return json.dumps({"FailedEvaluations": []})

    def get_compliance_details_by_config_rule(self):
        name = self._get_param("ConfigRuleName")
        kinds = self._get_param("ComplianceTypes") or []
        limit = self._get_param("Limit") or 10
        token = self._get_param("NextToken")
        rule = self.config_backend.config_rules.get(name)
        if rule is None:
            raise NoSuchConfigRuleException(name)
        for kind in kinds:
            if kind not in COMPLIANCE_TYPES:
                raise ValidationException(
                    f"1 validation error detected: Value '[{kind}]' at 'complianceTypes' failed to satisfy "
                    f"constraint: Member must satisfy enum value set: [{', '.join(COMPLIANCE_TYPES)}]"
                )
            if kind == "INSUFFICIENT_DATA":
                raise InvalidParameterValueException(
                    "INSUFFICIENT_DATA cannot be used as a ComplianceType for filtering results"
                )
        if not isinstance(limit, int) or not 0 <= limit <= 100:
            raise ValidationException(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                "Member must have value less than or equal to 100"
            )
        try:
            start = int(token or 0)
            if start < 0:
                raise ValueError(token)
        except ValueError:
            raise InvalidNextTokenException()
        kept = CONFIG.results.get((self.current_account, self.region, rule.config_rule_id), {})
        chosen = [r for _, r in sorted(kept.items()) if not kinds or r["ComplianceType"] in kinds]
        answer = []
        for r in chosen[start:start + limit]:
            result = {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": r["ConfigRuleName"],
                        "ResourceType": r["ResourceType"],
                        "ResourceId": r["ResourceId"],
                        "EvaluationMode": "DETECTIVE",
                    },
                    "OrderingTimestamp": r["OrderingTimestamp"],
                },
                "ComplianceType": r["ComplianceType"],
                "ResultRecordedTime": r["ResultRecordedTime"],
                "ConfigRuleInvokedTime": r["ConfigRuleInvokedTime"],
            }
            if r["Annotation"] is not None:
                result["Annotation"] = r["Annotation"]
            answer.append(result)
        more = start + limit < len(chosen)
        return json.dumps({"EvaluationResults": answer, **({"NextToken": str(start + limit)} if more else {})})

    original_delete = models.ConfigBackend.delete_config_rule

    def delete_config_rule(self, rule_name):
        rule = self.config_rules.get(rule_name)
        original_delete(self, rule_name)
        CONFIG.results.pop((self.account_id, self.region_name, rule.config_rule_id), None)

    models.Source.__init__ = source_init
    models.ConfigBackend.delete_config_rule = delete_config_rule
    responses.ConfigResponse.put_evaluations = put_evaluations
    responses.ConfigResponse.get_compliance_details_by_config_rule = get_compliance_details_by_config_rule


patch_config()


def config_rule_event(spec):
    """The event AWS Config sends a periodic custom rule's function, with a
    new result token (module doc); (status, payload)."""
    import secrets

    from moto.config.models import config_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    name = spec["config_rule_name"]
    region = str(spec.get("region") or "us-east-1")
    account = str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)
    if not isinstance(name, str):
        raise TypeError("config_rule_name is a string")
    rule = config_backends[account][region].config_rules.get(name)
    if rule is None:
        return "400 Bad Request", {
            "__type": "NoSuchConfigRuleException",
            "message": f"The ConfigRule '{name}' provided in the request is invalid. Please check the configRule name",
        }
    periodic = rule.source.owner == "CUSTOM_LAMBDA" and any(
        d.message_type == "ScheduledNotification" for d in rule.source.source_details or []
    )
    if not periodic:
        return "400 Bad Request", {
            "__type": "InvalidParameterValueException",
            "message": f"The rule {name} is not a periodic custom rule (CUSTOM_LAMBDA, ScheduledNotification)",
        }
    now = utc_now()
    token = secrets.token_urlsafe(48)
    CONFIG.tokens[token] = (account, region, name, rule.config_rule_id, now.timestamp())
    invoking = {
        "awsAccountId": account,
        "notificationCreationTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    }
    return "200 OK", {
        "configRuleId": rule.config_rule_id,
        "version": "1.0",
        "configRuleName": name,
        "configRuleArn": rule.config_rule_arn,
        "invokingEvent": json.dumps(invoking, separators=(",", ":")),
        "resultToken": token,
        "eventLeftScope": False,
        "ruleParameters": rule.input_parameters or "{}",
        "executionRoleArn": f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        "accountId": account,
    }


class ConfigExtras:
    """Config invoking a rule's function: the event and its token (module doc)."""

    def handle(self, environ):
        """An answer instead of moto's, or None."""
        if not is_hook(environ, "/_support_plans/config-rule-event"):
            return None
        try:
            status, payload = config_rule_event(posted_json(environ))
        except (ValueError, KeyError, TypeError) as e:
            return json_answer("400 Bad Request", {"message": f"expected {{config_rule_name, region?, account_id?}}: {e}"})
        return json_answer(status, payload)


def confirm_pending(topic_arn, endpoint):
    """Confirms the pending subscriptions of `endpoint` on `topic_arn`, as
    their owner following SNS's link would; their ARNs, or None when the
    topic does not exist."""
    from moto.sns.models import sns_backends
    from moto.utilities.arns import parse_arn

    try:
        arn = parse_arn(topic_arn)
        backend = sns_backends[arn.account][arn.region]
    except (ValueError, KeyError, IndexError):
        return None
    if topic_arn not in backend.topics:
        return None
    confirmed = []
    for subscription in backend.subscriptions.values():
        if subscription.topic.arn == topic_arn and subscription.endpoint == endpoint and getattr(subscription, "pending", False):
            subscription.pending = False
            subscription.confirmed = True
            subscription.attributes["PendingConfirmation"] = False
            # Followed from the e-mail, unauthenticated (SNS says false then too).
            subscription.attributes["ConfirmationWasAuthenticated"] = False
            confirmed.append(subscription.arn)
    return confirmed


def call(app, environ):
    """Runs the moto app; returns (status, headers, body)."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return answer["status"], answer["headers"], body


def json_answer(status, payload):
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))]
    return status, headers, body


def dynamodb_error(status, kind, message):
    return json_answer(status, {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message})


def support_error(status, kind, message):
    body = json.dumps({"__type": kind, "message": message}).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))]
    return status, headers, body


class SupportExtras:
    """The subscription fault, per service code (see the module doc)."""

    def __init__(self):
        self.required = set()  # service codes whose CreateCase is refused

    def fault(self, environ):
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            spec = json.loads(environ["wsgi.input"].read(size) or b"{}")
            code = str(spec["service_code"])
            if not isinstance(spec.get("required", True), bool):
                raise TypeError("required is not true or false")
        except (ValueError, KeyError, TypeError) as e:
            return json_answer("400 Bad Request", {"message": f"expected {{service_code, required}}: {e}"})
        if spec.get("required", True):
            self.required.add(code)
        else:
            self.required.discard(code)
        return json_answer("200 OK", {"armed": spec})

    def handle(self, environ):
        """An answer instead of moto's, or None."""
        if environ.get("PATH_INFO") == "/_support_plans/support-subscription" and environ.get("REQUEST_METHOD") == "POST":
            return self.fault(environ)
        if environ.get("HTTP_X_AMZ_TARGET") == SUPPORT_TARGET + "CreateCase" and self.required:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                code = json.loads(body or b"{}").get("serviceCode")
            except ValueError:
                code = None
            if code in self.required:
                return support_error("400 Bad Request", "SubscriptionRequiredException", SUBSCRIPTION_REQUIRED)
        return None


def posted_json(environ):
    """The JSON body of a hook's POST (ValueError when it is not JSON)."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    return json.loads(environ["wsgi.input"].read(size) or b"{}")


def is_hook(environ, path):
    return environ.get("PATH_INFO") == path and environ.get("REQUEST_METHOD") == "POST"


class SnsExtras:
    """The confirmation hook (see the module doc)."""

    def handle(self, environ):
        """An answer instead of moto's, or None."""
        if not is_hook(environ, "/_support_plans/sns-confirm"):
            return None
        try:
            spec = posted_json(environ)
            topic_arn, endpoint = spec["topic_arn"], spec["endpoint"]
            if not isinstance(topic_arn, str) or not isinstance(endpoint, str):
                raise TypeError("topic_arn and endpoint are strings")
        except (ValueError, KeyError, TypeError) as e:
            return json_answer("400 Bad Request", {"message": f"expected {{topic_arn, endpoint}}: {e}"})
        confirmed = confirm_pending(topic_arn, endpoint)
        if confirmed is None:
            return json_answer("404 Not Found", {"message": f"no topic {topic_arn}"})
        return json_answer("200 OK", {"confirmed": confirmed})


class DynamoExtras:
    """Client-token idempotency and the lost-answer fault (see the module doc)."""

    def __init__(self):
        self.tokens = {}  # token -> (parameters digest, completed at, answer)
        self.lose = {}  # table -> answers still to lose

    def fault(self, environ):
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            spec = json.loads(environ["wsgi.input"].read(size) or b"{}")
            self.lose[str(spec["table"])] = int(spec.get("count", 1))
        except (ValueError, KeyError, TypeError) as e:
            return json_answer("400 Bad Request", {"message": f"expected {{table, count}}: {e}"})
        return json_answer("200 OK", {"armed": spec})

    def transact_write(self, app, environ, body):
        request = json.loads(body or b"{}")
        token = request.pop("ClientRequestToken", None)
        digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        now = time.monotonic()
        self.tokens = {t: v for t, v in self.tokens.items() if now - v[1] < IDEMPOTENCY_WINDOW_S}
        if token is not None and token in self.tokens:
            seen_digest, _, answer = self.tokens[token]
            if seen_digest != digest:
                return dynamodb_error(
                    "400 Bad Request",
                    "IdempotentParameterMismatchException",
                    "the client token was used with other parameters in the last 10 minutes",
                )
            return answer
        answer = call(app, environ)
        if token is not None and answer[0].startswith("200"):
            self.tokens[token] = (digest, time.monotonic(), answer)
        tables = {
            op.get("TableName")
            for item in request.get("TransactItems", [])
            for op in item.values()
            if isinstance(op, dict)
        }
        for table in tables & set(self.lose):
            if answer[0].startswith("200") and self.lose[table] > 0:
                self.lose[table] -= 1
                return dynamodb_error("500 Internal Server Error", "InternalServerError", "answer lost (injected)")
        return answer

    def handle(self, app, environ):
        if environ.get("PATH_INFO") == "/_support_plans/lose-answers" and environ.get("REQUEST_METHOD") == "POST":
            return self.fault(environ)
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)
            return self.transact_write(app, environ, body)
        return call(app, environ)


def serialized(app):
    lock = threading.Lock()
    extras = DynamoExtras()
    support = SupportExtras()
    sns = SnsExtras()
    config = ConfigExtras()

    def wrapper(environ, start_response):
        with lock:
            status, headers, body = (
                support.handle(environ) or sns.handle(environ) or config.handle(environ) or extras.handle(app, environ)
            )
        start_response(status, headers)
        return [body]

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        args.host, 0, serialized(app), threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    # moto builds some URLs (SQS queue URLs) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, args.port_file)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

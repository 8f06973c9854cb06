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


class SnsExtras:
    """The confirmation hook (see the module doc)."""

    def handle(self, environ):
        """An answer instead of moto's, or None."""
        if environ.get("PATH_INFO") != "/_support_plans/sns-confirm" or environ.get("REQUEST_METHOD") != "POST":
            return None
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            spec = json.loads(environ["wsgi.input"].read(size) or b"{}")
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

    def wrapper(environ, start_response):
        with lock:
            status, headers, body = support.handle(environ) or sns.handle(environ) or extras.handle(app, environ)
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

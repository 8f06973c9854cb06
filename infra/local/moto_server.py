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

    def wrapper(environ, start_response):
        with lock:
            status, headers, body = extras.handle(app, environ)
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

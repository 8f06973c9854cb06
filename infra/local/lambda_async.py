"""Lambda's asynchronous invocation, locally (run by up.sh).

`cargo lambda watch` serves the Lambda Invoke API but runs an `Event`
invocation synchronously: the caller waits for the function and gets its
result. In AWS, `Invoke` with `X-Amz-Invocation-Type: Event` puts the event on
the function's queue and answers `202` with an empty body at once; Lambda then
runs the function and, when it returns an error, runs it again up to twice
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).

This server sits in front of cargo lambda watch's Invoke API and does the
same for `Event` invocations: `202` at once, the event run in the background,
and up to two retries of a function error or an unreachable function
(after 1 s and 2 s here, instead of AWS's minutes). Every other request
(`RequestResponse`, `DryRun`, anything else) is passed through as it is. So
the incident-hooks function, whose `AWS_ENDPOINT_URL_LAMBDA` points here,
answers a webhook as it would in AWS: before the responder runs.

Usage: lambda_async.py --target http://127.0.0.1:PORT --port-file PATH
Logs one line per event to stderr: function, attempt, outcome. Never bodies.
"""

import argparse
import http.client
import os
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RETRIES = 2
BACKOFF_SECS = (1, 2)
TIMEOUT_SECS = 300
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


def forward(target, method, path, headers, body):
    """One request to cargo lambda watch; (status, headers, body)."""
    url = urllib.parse.urlsplit(target)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT_SECS)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def run_event(target, path, headers, body, request_id):
    function = path.split("/functions/", 1)[-1].split("/", 1)[0]
    sync = {k: v for k, v in headers.items() if k.lower() != "x-amz-invocation-type"}
    sync["X-Amz-Invocation-Type"] = "RequestResponse"
    for attempt in range(1 + RETRIES):
        try:
            status, answer_headers, _ = forward(target, "POST", path, sync, body)
            error = dict((k.lower(), v) for k, v in answer_headers).get("x-amz-function-error")
            outcome = f"status {status}" + (f", function error {error}" if error else "")
            failed = status >= 500 or error is not None
        except OSError as e:
            outcome, failed = f"unreachable: {e}", True
        print(f"lambda-async: {function} event {request_id} attempt {attempt + 1}: {outcome}", file=sys.stderr, flush=True)
        if not failed:
            return
        if attempt < RETRIES:
            time.sleep(BACKOFF_SECS[attempt])
    print(f"lambda-async: {function} event {request_id} dropped after {1 + RETRIES} attempts", file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    target = ""

    def log_message(self, *args):  # one line per event instead, from run_event
        pass

    def _body(self):
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _relay(self, method):
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        invocation = self.headers.get("x-amz-invocation-type", "RequestResponse")
        if method == "POST" and "/functions/" in self.path and invocation == "Event":
            request_id = str(uuid.uuid4())
            threading.Thread(
                target=run_event, args=(self.target, self.path, headers, body, request_id), daemon=True
            ).start()
            self.send_response(202)
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        try:
            status, answer_headers, answer = forward(self.target, method, self.path, headers, body)
        except OSError as e:
            self.send_error(502, f"cargo lambda watch is unreachable: {e}")
            return
        self.send_response(status)
        for k, v in answer_headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_POST(self):
        self._relay("POST")

    def do_GET(self):
        self._relay("GET")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    Handler.target = args.target
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()

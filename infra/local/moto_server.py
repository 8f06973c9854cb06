"""moto in server mode on a free loopback port, one request at a time.

moto's backends take no locks: a thread switch between a condition check and
its write could let two concurrent conditional writes both pass, which
DynamoDB itself never allows. Races are rare under the GIL (20 concurrent
replaces behaved on stock moto in 6 of 6 runs), but the tests of optimistic
concurrency must not depend on luck, so requests are serialized here.

Usage: python moto_server.py --port-file PATH [--host 127.0.0.1]
The chosen port is written to PATH once the server is listening.
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import make_server


def serialized(app):
    lock = threading.Lock()

    def wrapper(environ, start_response):
        with lock:
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
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

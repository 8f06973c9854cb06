"""Schemathesis hooks for the local API.

cargo lambda watch turns an HTTP request into a Lambda event and answers 500
itself, before the function runs, when a JSON body is not valid UTF-8 (API
Gateway would deliver it base64-encoded, and the handler answers 400: the
plans-api test `invalid_bodies_get_400_with_every_field_path_and_write_nothing`
checks that through the real handler). Such bodies test the local emulator,
not the API, so they are not generated here.
"""

import json

import schemathesis


def _utf8(body) -> bool:
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    if isinstance(body, str):
        try:
            body.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            return False
        return True
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError):
        return False
    return True


@schemathesis.hook
def filter_body(context, body):
    return _utf8(body)

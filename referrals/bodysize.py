"""MAX_CONTENT_LENGTH for request bodies sent without a Content-Length (chunked).

With a Content-Length, werkzeug refuses an oversized body (413) before reading it.
Without one, it reads up to the limit and stops there: a later read raises 413, but
the read that reached the limit returns what it has, so a form or FHIR body would be
parsed cut short instead of refused. This reads such a body once, first, and refuses
it if it reached the limit; what it read is cached, so forms and JSON parse from it.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def register(app: Flask) -> None:
    # Ahead of every other hook (CSRF reads the form in its own before_request).
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized_stream)


def refuse_oversized_stream() -> None:
    limit = request.max_content_length
    if limit is None or request.content_length is not None or request.method in BODILESS:
        return
    # A body of exactly `limit` bytes cannot be told from a longer one without reading
    # past the limit, which werkzeug does not allow: it is refused too.
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()

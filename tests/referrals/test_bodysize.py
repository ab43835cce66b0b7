"""The request size limit (MAX_CONTENT_LENGTH) holds for the whole app, with or without
a Content-Length: an oversized body is refused with 413, never cut short and parsed."""
from __future__ import annotations

import http.client
import json
import threading

import flask_migrate
import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from referrals import create_app
from referrals.admin.service import create_api_client
from referrals.config import load_config
from referrals.extensions import db
from referrals.models import Referral
from tests.builders import Builders
from tests.fhir_adapters import payloads

LIMIT = 60_000


def test_the_default_limit_is_one_megabyte_and_configurable(monkeypatch):
    assert load_config("test").MAX_CONTENT_LENGTH == 1024 * 1024
    monkeypatch.setenv("KINDLY_MAX_CONTENT_LENGTH", "2097152")
    assert load_config("test").MAX_CONTENT_LENGTH == 2 * 1024 * 1024


@pytest.mark.parametrize("value", ["1MB", 0, -5, 1.5, None])
def test_a_limit_that_is_not_a_whole_number_of_bytes_stops_the_app(tmp_path, value):
    with pytest.raises(RuntimeError, match="MAX_CONTENT_LENGTH"):
        create_app({"ENV_NAME": "test", "MAX_CONTENT_LENGTH": value,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})


def test_a_form_over_the_limit_is_a_413_page(client, make):
    response = client.post("/login", data={"email": "x@example.org", "password": "x" * (2 << 20)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_a_chunked_form_over_the_limit_is_a_413_not_a_form_cut_short(client, app):
    body = b"email=x%40example.org&password=" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/login", data=body,
                           headers={"Transfer-Encoding": "chunked"},
                           content_type="application/x-www-form-urlencoded",
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.request.content_length is None
    assert response.status_code == 413


# --- over real HTTP: a werkzeug server de-chunking the body ----------------------------------


@pytest.fixture
def live_server(tmp_path):
    """A server thread on its own committed SQLite database with a practice and an API
    client. Yields (port, token, app)."""
    app = create_app({"ENV_NAME": "test", "MAX_CONTENT_LENGTH": LIMIT,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'size.db'}"})
    with app.app_context():
        flask_migrate.upgrade()
        practice = Builders(db.session).practice(ods_code="A12345", name="Alpha Surgery")
        _, token = create_api_client("Size test", [practice], actor=None, actor_label="test")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bodysize", daemon=True)
    thread.start()
    try:
        yield server.server_port, token, app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def post_chunked(port: int, path: str, body: bytes, headers: dict) -> tuple[int, str, bytes]:
    """POST `body` with Transfer-Encoding: chunked (no Content-Length), 8 KB a chunk."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (body[i:i + 8192] for i in range(0, len(body), 8192))
        conn.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def stored_referrals(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Referral.id)))


def bundle_with_note(size: int) -> bytes:
    bundle = payloads.transaction("9990000018")
    payloads.entry(bundle, "ServiceRequest")["note"] = [{"text": "x" * size}]
    return json.dumps(bundle).encode()


def test_a_chunked_fhir_bundle_over_the_limit_is_a_413_operation_outcome(live_server):
    port, token, app = live_server
    body = bundle_with_note(LIMIT)
    assert len(body) > LIMIT
    status, content_type, answer = post_chunked(port, "/fhir", body, {
        "Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
    assert status == 413
    assert content_type.startswith("application/fhir+json")
    outcome = json.loads(answer)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "too-costly"
    assert stored_referrals(app) == 0


def test_a_chunked_fhir_bundle_under_the_limit_is_taken(live_server):
    port, token, app = live_server
    status, _, answer = post_chunked(port, "/fhir", bundle_with_note(1000), {
        "Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
    assert status == 200, answer
    assert stored_referrals(app) == 1


def test_a_chunked_web_form_over_the_limit_is_a_413_page(live_server):
    port, _, _ = live_server
    body = b"email=x%40example.org&password=" + b"x" * LIMIT
    status, content_type, answer = post_chunked(port, "/login", body, {
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413
    assert content_type.startswith("text/html")
    assert b"too large" in answer

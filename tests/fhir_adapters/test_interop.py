"""Interop: the `fhirclient` package (SMART on FHIR's Python client, R4 models) against a
real HTTP server.

The app runs in a werkzeug server thread on 127.0.0.1 with its own committed SQLite
database: the rolled-back `db` fixture cannot be seen from another thread, so this test
builds its own app and is not parametrized by the root conftest's database_url.
Every response the server sends is also put through both validators (R4B and Medplum).
"""
from __future__ import annotations

import json
import threading

import flask_migrate
import pytest
from fhirclient import client as fhir_client
from fhirclient.models.capabilitystatement import CapabilityStatement
from fhirclient.models.servicerequest import ServiceRequest
from fhirclient.models.task import Task
from werkzeug.serving import make_server

from referrals import create_app
from referrals.admin.service import create_api_client
from referrals.extensions import db
from referrals.models import Role
from tests.builders import Builders
from tests.fhir_adapters import validators
from tests.fhir_adapters.conftest import FHIR_JSON, validate_r4b


@pytest.fixture
def live_server(tmp_path):
    """A committed SQLite database with a practice, a referral and an API client, served
    over HTTP from a thread. Yields (base_url, token, referral_id, responses)."""
    app = create_app({"ENV_NAME": "test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'interop.db'}"})
    responses: list[dict] = []
    lock = threading.Lock()

    @app.after_request
    def keep_fhir_bodies(response):
        if response.mimetype == FHIR_JSON:
            with lock:
                responses.append(json.loads(response.get_data()))
        return response

    with app.app_context():
        flask_migrate.upgrade()
        make = Builders(db.session)
        practice = make.practice(ods_code="A12345", name="Alpha Surgery")
        referrer = make.user(Role.REFERRER, practice=practice, name="Dr Sam Jones")
        referral = make.referral(practice, referrer=referrer)
        _, token = create_api_client("Interop GP system", [practice], actor=None,
                                     actor_label="test")
        db.session.commit()
        referral_id = referral.id

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="fhir-interop", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/fhir", token, referral_id, responses
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def test_fhirclient_reads_metadata_a_service_request_and_its_task(live_server):
    base, token, referral_id, responses = live_server
    smart = fhir_client.FHIRClient(settings={"app_id": "kindly-interop-test", "api_base": base})
    server = smart.server
    # Our API takes a static bearer token (no SMART launch): every request of the
    # client's requests.Session carries it.
    server.session.headers["Authorization"] = f"Bearer {token}"
    try:
        # prepare() fetches /metadata and parses it as an R4 CapabilityStatement.
        assert smart.prepare() is True
        capability = server.capabilityStatement
        assert isinstance(capability, CapabilityStatement)
        assert capability.fhirVersion == "4.0.1"
        supported = {r.type: {i.code for i in r.interaction} for r in capability.rest[0].resource}
        assert {"read", "search-type"} <= supported["ServiceRequest"]
        assert {"read", "search-type"} <= supported["Task"]

        referral = ServiceRequest.read(str(referral_id), server)
        assert referral.id == str(referral_id)
        assert referral.status == "active" and referral.intent == "order"
        assert referral.subject.reference.startswith("Patient/")
        assert referral.code.coding[0].code == "871731000000106"

        search = Task.where(struct={"focus": f"ServiceRequest/{referral_id}"})
        tasks = list(search.perform_resources_iter(server))
        assert [t.id for t in tasks] == [f"t-{referral_id}"]
        task = tasks[0]
        assert isinstance(task, Task)
        assert task.focus.reference == f"ServiceRequest/{referral_id}"
        assert task.status == "requested"
        assert task.businessStatus.coding[0].code == "received"
    finally:
        server.session.close()

    # What the server actually sent (metadata, ServiceRequest, searchset) passes both
    # validators, like every response of the in-process Api helper.
    assert [body["resourceType"] for body in responses] == [
        "CapabilityStatement", "ServiceRequest", "Bundle"]
    for body in responses:
        validate_r4b(body)
        validators.validate_independently(body)

"""Every /fhir read or write of a person's record is audited as the API client."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent
from tests.fhir_adapters import payloads

LABEL = "api-client:Test GP system"


@pytest.fixture
def ours(db, make, practice):
    referral = make.referral(practice)
    db.session.commit()
    return {"id": str(referral.id), "patient": str(referral.patient_id),
            "nhs": referral.patient.nhs_number}


def events_since(db, last_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                                   .order_by(AuditEvent.id)))


def latest_id(db) -> int:
    return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


@pytest.mark.parametrize("path, action, entity", [
    ("ServiceRequest/{id}", "read", "referral"),
    ("Task/t-{id}", "read", "referral"),
    ("Consent/c-{id}", "read", "consent"),
    ("Patient/{patient}", "read", "patient"),
    ("ServiceRequest?_id={id}", "search", "referral"),
    ("Task?focus=ServiceRequest/{id}", "search", "referral"),
    ("Patient?identifier={nhs}", "search", "patient"),
])
def test_every_read_and_search_is_audited_as_the_api_client(api, db, ours, path, action,
                                                            entity):
    before = latest_id(db)
    assert api.get(path.format(**ours)).status_code == 200
    (event,) = events_since(db, before)
    assert (event.actor_label, event.actor_id, event.action, event.entity_type) == (
        LABEL, None, action, entity)
    if action == "read":
        assert event.patient_id == int(ours["patient"])
    else:
        assert int(ours["patient"]) in event.detail["patient_ids"]


def test_a_transaction_is_audited_as_a_create_by_the_api_client(api, db, make):
    before = latest_id(db)
    assert api.post("", payloads.transaction(make.nhs_number())).status_code == 200
    creates = [e for e in events_since(db, before) if e.action == "create"]
    assert [(e.actor_label, e.entity_type) for e in creates] == [(LABEL, "referral")]


def test_a_single_service_request_create_is_audited(api, db, make):
    before = latest_id(db)
    response = api.post("ServiceRequest", payloads.with_contained_patient(make.nhs_number()))
    (event,) = [e for e in events_since(db, before) if e.action == "create"]
    assert (event.actor_label, event.entity_id) == (LABEL, int(response.json["id"]))


def test_a_revocation_is_audited(api, db, ours):
    resource = api.get(f"ServiceRequest/{ours['id']}").json
    resource["status"] = "revoked"
    resource["note"] = [{"text": "Moved away"}]
    before = latest_id(db)
    assert api.put(f"ServiceRequest/{ours['id']}", resource,
                   headers={"If-Match": 'W/"1"'}).status_code == 200
    assert [(e.action, e.actor_label) for e in events_since(db, before)] == [("cancel", LABEL)]


def test_a_refused_request_leaves_no_audit_of_a_change(api, db, make):
    before = latest_id(db)
    bundle = payloads.transaction(make.nhs_number())
    del payloads.entry(bundle, "ServiceRequest")["reasonCode"]
    assert api.post("", bundle).status_code == 422
    assert events_since(db, before) == []


def test_reading_another_practices_record_is_not_a_read(other_api, db, ours):
    before = latest_id(db)
    assert other_api.get(f"ServiceRequest/{ours['id']}").status_code == 404
    assert events_since(db, before) == []

"""/fhir/ServiceRequest: create one, read it, search, page, and revoke it with If-Match."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import select

from referrals import workflow
from referrals.intake.service import create_referral
from referrals.models import AuditEvent, Referral, ReferralStatus, Role
from tests.fhir_adapters import payloads

S = ReferralStatus
BASE = "http://localhost/fhir"
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def local(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return url.removeprefix("http://localhost")


# --- create -------------------------------------------------------------------------


@pytest.fixture
def known_patient(db, make, practice):
    """Someone the practice referred before, whose referral is closed."""
    referral = make.referral(practice, status=S.COMPLETED)
    db.session.commit()
    return referral.patient_id, referral.patient.nhs_number


def test_a_referral_for_a_known_patient_by_nhs_number_is_created(api, db, known_patient):
    patient_id, nhs_number = known_patient
    response = api.post("ServiceRequest", payloads.by_nhs_number(nhs_number))
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"{BASE}/ServiceRequest/{body['id']}/_history/1"
    assert response.headers["ETag"] == 'W/"1"'
    assert body["meta"]["versionId"] == "1"
    assert body["subject"]["reference"] == f"Patient/{patient_id}"
    referral = db.session.get(Referral, int(body["id"]))
    assert (referral.status, referral.patient_id) == (S.RECEIVED, patient_id)


def test_the_nhs_number_may_be_sent_with_spaces(api, known_patient):
    _, n = known_patient
    response = api.post("ServiceRequest", payloads.by_nhs_number(f"{n[:3]} {n[3:6]} {n[6:]}"))
    assert response.status_code == 201


def test_the_created_referral_has_its_task(api, known_patient):
    sr_id = api.post("ServiceRequest", payloads.by_nhs_number(known_patient[1])).json["id"]
    task = api.get(f"Task/t-{sr_id}")
    assert task.status_code == 200
    assert task.json["focus"]["reference"] == f"ServiceRequest/{sr_id}"


def test_a_referral_with_a_contained_patient_and_consent_is_created(api, db, make):
    nhs_number = make.nhs_number()
    response = api.post("ServiceRequest", payloads.with_contained_patient(nhs_number))
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/_history/1")
    assert response.headers["ETag"] == 'W/"1"'
    referral = db.session.get(Referral, int(response.json["id"]))
    assert referral.patient.nhs_number == nhs_number
    assert referral.patient.family_name == "Lovelace"


def test_a_referral_without_consent_is_a_422(api, db, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    del resource["supportingInfo"]
    resource["contained"] = resource["contained"][:1]
    response = api.post("ServiceRequest", resource)
    assert response.status_code == 422
    (issue,) = response.json["issue"]
    assert (issue["code"], issue["expression"]) == ("business-rule",
                                                    ["ServiceRequest.supportingInfo"])
    assert db.session.scalars(select(Referral)).first() is None


def test_a_referral_for_an_unknown_patient_by_nhs_number_is_a_422(api, db, make):
    response = api.post("ServiceRequest", payloads.by_nhs_number(make.nhs_number()))
    assert response.status_code == 422
    assert response.json["issue"][0]["expression"] == ["ServiceRequest.subject"]
    assert db.session.scalars(select(Referral)).first() is None


def test_a_subject_identifier_that_is_not_an_nhs_number_is_a_422(api, known_patient):
    resource = payloads.by_nhs_number(known_patient[1])
    resource["subject"]["identifier"]["system"] = "https://example.org/mrn"
    assert api.post("ServiceRequest", resource).status_code == 422


def test_a_subject_by_patient_id_of_a_known_patient_is_created(api, known_patient):
    resource = payloads.by_nhs_number(known_patient[1])
    resource["subject"] = {"reference": f"Patient/{known_patient[0]}"}
    assert api.post("ServiceRequest", resource).status_code == 201


# --- read ------------------------------------------------------------------------------


@pytest.fixture
def referrer(make, practice):
    return make.user(Role.REFERRER, practice=practice)


def test_a_referral_is_read_with_its_version(api, db, make, practice, referrer):
    referral = make.referral(practice, referrer=referrer)
    sr_id = referral.id
    db.session.commit()
    response = api.get(f"ServiceRequest/{sr_id}")
    assert response.status_code == 200
    assert response.json["id"] == str(sr_id)
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Last-Modified"].endswith(" GMT")
    assert response.mimetype == "application/fhir+json"


def test_reading_a_referral_that_does_not_exist_is_a_404(api):
    response = api.get("ServiceRequest/424242")
    assert response.status_code == 404
    assert response.json["issue"][0]["code"] == "not-found"


# --- search -------------------------------------------------------------------------


def at(day: int) -> datetime:
    return datetime(2024, 3, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def town(db, make, practice, other_practice, referrer):
    """Three referrals at the practice, on 1, 10 and 20 March, and one elsewhere.

    a: received, by `referrer`; b: accepted, sent by a GP system; c: cancelled, moved to
    another team.
    """
    a = make.referral(practice, referrer=referrer)
    b = create_referral(make.intake(practice, referrer_name="Dr Who"), actor=None)
    workflow.transition(b, S.ACCEPTED, actor=None)
    c = make.referral(practice, referrer=referrer)
    workflow.transition(c, S.CANCELLED, actor=referrer, reason="Moved away")
    c.team = make.team()
    elsewhere = make.referral(other_practice)
    for referral, day in ((a, 1), (b, 10), (c, 20), (elsewhere, 10)):
        referral.created_at = referral.updated_at = at(day)
    db.session.commit()
    return {
        "a": str(a.id), "b": str(b.id), "c": str(c.id),
        "a_ref": a.reference, "a_patient": str(a.patient_id),
        "a_nhs": a.patient.nhs_number, "referrer": str(referrer.id),
        "team": str(practice.team_id), "practice": str(practice.id),
    }


# Every ServiceRequest search parameter the CapabilityStatement declares, with a
# value and the referrals (of the town above) it must find.
SEARCHES = {
    "_id": ("{a},{c}", {"a", "c"}),
    "identifier": ("https://kindly.example/fhir/Id/referral|{a_ref}", {"a"}),
    "patient": ("Patient/{a_patient}", {"a"}),
    "subject": ("Patient/{a_patient}", {"a"}),
    "status": ("revoked", {"c"}),
    "intent": ("plan", set()),
    "requester": ("PractitionerRole/pr-{referrer}", {"a", "c"}),
    "performer": ("Organization/team-{team}", {"a", "b"}),
    "authored": ("ge2024-03-10", {"b", "c"}),
    "_lastUpdated": ("le2024-03-10", {"a", "b"}),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_each_declared_search_parameter_finds_exactly_its_referrals(api, town, name):
    value, expected = SEARCHES[name]
    response = api.get(f"ServiceRequest?{name}={quote(value.format(**town))}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}
    assert response.json["total"] == len(expected)


@pytest.mark.parametrize("query, expected", [
    ("patient:identifier={nhs}|{a_nhs}", {"a"}),
    ("patient:identifier={a_nhs}", {"a"}),
    ("identifier={a_ref}", {"a"}),
    ("status=active", {"a", "b"}),
    ("status=active,revoked", {"a", "b", "c"}),
    ("intent=order", {"a", "b", "c"}),
    ("requester=Organization/p-{practice}", {"b"}),
    ("authored=ge2024-03-05&authored=le2024-03-15", {"b"}),
    ("authored=2024-03-10", {"b"}),
    ("_lastUpdated=gt2024-03-10", {"c"}),
    ("_lastUpdated=ge2024-03-20T12:00:00Z", {"c"}),
    ("patient=Patient/{a_patient}&status=revoked", set()),
    ("", {"a", "b", "c"}),
])
def test_searches_combine_and_take_fhir_value_forms(api, town, query, expected):
    response = api.get(f"ServiceRequest?{query.format(nhs=NHS, **town)}")
    assert set(ids(response.json)) == {town[k] for k in expected}


def test_a_searchset_has_total_links_and_absolute_full_urls(api, town):
    body = api.get("ServiceRequest?status=active").json
    assert (body["type"], body["total"]) == ("searchset", 2)
    (self_link,) = [link for link in body["link"] if link["relation"] == "self"]
    assert self_link["url"] == f"{BASE}/ServiceRequest?status=active"
    for entry in body["entry"]:
        assert entry["fullUrl"] == f"{BASE}/ServiceRequest/{entry['resource']['id']}"
        assert entry["search"] == {"mode": "match"}


def test_include_adds_each_patient_once_as_an_include(api, db, make, practice, town):
    again = make.referral(practice, status=S.COMPLETED)
    again_patient = str(again.patient_id)
    db.session.commit()
    body = api.get("ServiceRequest?_include=ServiceRequest:patient").json
    patients = ids(body, "include")
    assert sorted(patients) == sorted(set(patients))
    assert town["a_patient"] in patients and again_patient in patients
    for entry in body["entry"]:
        if entry["search"]["mode"] == "include":
            assert entry["resource"]["resourceType"] == "Patient"
            assert entry["fullUrl"] == f"{BASE}/Patient/{entry['resource']['id']}"
    assert body["total"] == len(ids(body))  # includes are not counted


def test_an_unsupported_include_is_a_400(api, town):
    response = api.get("ServiceRequest?_include=ServiceRequest:requester")
    assert response.status_code == 400


def test_an_undeclared_parameter_is_reported_as_ignored(api, town):
    body = api.get("ServiceRequest?category=food").json
    assert set(ids(body)) == {town["a"], town["b"], town["c"]}
    (outcome,) = [e for e in body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome["resource"]["issue"][0]["expression"] == ["category"]


@pytest.mark.parametrize("query", ["status=open", "authored=ge01/03/2024", "authored=sa2024-01-01",
                                   "_count=lots", "_count=-1", "_after=x"])
def test_a_malformed_search_value_is_a_400(api, town, query):
    response = api.get(f"ServiceRequest?{query}")
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"


# --- paging -------------------------------------------------------------------------


@pytest.fixture
def many(db, make, practice, other_practice, referrer):
    """Referrals at the practice, created in bulk (one referrer, no password hashing)."""

    def create(n: int) -> set[str]:
        made = {str(make.referral(practice, referrer=referrer).id) for _ in range(n)}
        make.referral(other_practice, referrer=make.user(Role.REFERRER, practice=other_practice))
        db.session.commit()
        return made

    return create


def test_the_default_page_is_20(api, many):
    many(21)
    body = api.get("ServiceRequest").json
    assert (len(ids(body)), body["total"]) == (20, 21)
    assert [link["relation"] for link in body["link"]] == ["self", "next"]


def test_count_is_capped_at_100(api, many):
    made = many(101)
    body = api.get("ServiceRequest?_count=500").json
    assert (len(ids(body)), body["total"]) == (100, 101)
    rest = api.get(local(body["link"][1]["url"])).json
    assert set(ids(body)) | set(ids(rest)) == made


def test_following_next_links_returns_every_referral_exactly_once(api, many):
    made = many(7)
    seen, totals, pages = [], set(), 0
    url = "/fhir/ServiceRequest?_count=3&status=active"
    while url:
        body = api.get(url).json
        pages += 1
        seen += ids(body)
        totals.add(body["total"])
        nexts = [link["url"] for link in body["link"] if link["relation"] == "next"]
        url = local(nexts[0]) if nexts else None
        assert pages <= 7, "next links do not end"
    assert sorted(seen) == sorted(made)
    assert totals == {7}
    assert pages == 3


def test_count_zero_gives_only_the_total(api, many):
    many(2)
    body = api.get("ServiceRequest?_count=0").json
    assert (body["total"], body.get("entry")) == (2, None)


def test_paging_keeps_the_search_and_include(api, many):
    many(3)
    body = api.get("ServiceRequest?_count=2&_include=ServiceRequest:patient").json
    second = api.get(local(body["link"][1]["url"])).json
    assert len(ids(second)) == 1 and len(ids(second, "include")) == 1


# --- revoke (PUT with If-Match) -----------------------------------------------------------


@pytest.fixture
def received(db, make, practice, referrer):
    referral = make.referral(practice, referrer=referrer)
    db.session.commit()
    return str(referral.id)


def revocation(api, sr_id: str, reason: str | None = "The person moved away") -> dict:
    resource = api.get(f"ServiceRequest/{sr_id}").json
    resource["status"] = "revoked"
    if reason:
        resource["note"] = [*resource.get("note", []), {"text": reason}]
    return resource


def test_the_requester_revokes_a_referral_with_a_reason(api, db, received):
    response = api.put(f"ServiceRequest/{received}", revocation(api, received),
                       headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200
    assert response.json["status"] == "revoked"
    assert response.json["meta"]["versionId"] == "2"
    assert response.headers["ETag"] == 'W/"2"'
    task = api.get(f"Task/t-{received}").json
    assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == ("cancelled",
                                                                              "cancelled")
    assert task["statusReason"]["text"] == "The person moved away"
    assert task["meta"]["versionId"] == "2"
    referral = db.session.get(Referral, int(received))
    assert referral.status is S.CANCELLED
    assert referral.events[-1].actor_label == "api-client:Test GP system"


def test_the_reason_may_be_sent_as_the_revocation_extension(api, received):
    resource = revocation(api, received, reason=None)
    resource["extension"].append({"url": payloads.REVOCATION_REASON,
                                  "valueString": "Duplicate of another referral"})
    response = api.put(f"ServiceRequest/{received}", resource, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200
    task = api.get(f"Task/t-{received}").json
    assert task["statusReason"]["text"] == "Duplicate of another referral"


def test_revoking_without_if_match_is_a_428(api, db, received):
    response = api.put(f"ServiceRequest/{received}", revocation(api, received))
    assert response.status_code == 428
    assert db.session.get(Referral, int(received)).status is S.RECEIVED


def test_revoking_with_a_stale_if_match_is_a_412(api, db, received):
    resource = revocation(api, received)
    referral = db.session.get(Referral, int(received))
    workflow.transition(referral, S.ACCEPTED, actor=None, actor_label="connector")
    db.session.commit()
    response = api.put(f"ServiceRequest/{received}", resource, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 412
    assert response.json["issue"][0]["code"] == "conflict"
    assert response.headers["ETag"] == 'W/"2"'
    assert db.session.get(Referral, int(received)).status is S.ACCEPTED


def test_revoking_an_accepted_referral_is_an_illegal_transition(api, db, received):
    workflow.transition(db.session.get(Referral, int(received)), S.ACCEPTED, actor=None)
    db.session.commit()
    response = api.put(f"ServiceRequest/{received}", revocation(api, received),
                       headers={"If-Match": 'W/"2"'})
    assert response.status_code == 422
    assert response.json["issue"][0]["code"] == "business-rule"
    assert db.session.get(Referral, int(received)).status is S.ACCEPTED


def test_revoking_without_a_reason_is_a_422(api, db, received):
    response = api.put(f"ServiceRequest/{received}", revocation(api, received, reason=None),
                       headers={"If-Match": 'W/"1"'})
    assert response.status_code == 422
    assert db.session.get(Referral, int(received)).status is S.RECEIVED


@pytest.mark.parametrize("change", [
    {"status": "completed"},
    {"status": "active", "priority": "urgent"},
    {"priority": "urgent"},
    {"reasonCode": [{"text": "Something else"}]},
    {"subject": {"reference": "Patient/1"}},
    {"performer": [{"reference": "Organization/elsewhere"}]},
])
def test_changing_anything_but_the_status_to_revoked_is_a_422(api, db, received, change):
    resource = {**revocation(api, received), **change}
    response = api.put(f"ServiceRequest/{received}", resource, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 422
    referral = db.session.get(Referral, int(received))
    assert (referral.status, referral.version, referral.urgency.value) == (S.RECEIVED, 1,
                                                                          "routine")


def test_a_put_whose_id_differs_from_the_url_is_a_400(api, received):
    resource = revocation(api, received)
    resource["id"] = "999"
    response = api.put(f"ServiceRequest/{received}", resource, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 400


def test_an_if_match_may_be_strong_or_bare(api, received):
    response = api.put(f"ServiceRequest/{received}", revocation(api, received),
                       headers={"If-Match": '"1"'})
    assert response.status_code == 200


def test_revoking_is_audited(api, db, received):
    api.put(f"ServiceRequest/{received}", revocation(api, received), headers={"If-Match": '1'})
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "cancel", AuditEvent.entity_id == int(received))).all()
    assert [e.actor_label for e in events] == ["api-client:Test GP system"]

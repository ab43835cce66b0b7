"""/fhir/Procedure: what came of each connection, scoped and audited like the referral."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, ConnectionStatus, ReferralStatus
from tests.fhir_adapters import offers

C = ConnectionStatus
BASE = "http://localhost/fhir"
LABEL = "api-client:Test GP system"


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def at(day: int) -> datetime:
    return datetime(2024, 3, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def town(db, make, practice, other_practice):
    """Referral r1 (ours): attended walk (1 March), declined choir (10 March), a suggested
    lunch club (not a Procedure). Referral r2 (ours): did not attend (20 March).
    Referral elsewhere (other practice): attended."""
    session = db.session
    r1 = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
    r2 = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
    elsewhere = make.referral(other_practice, status=ReferralStatus.IN_PROGRESS)
    walk = offers.connection(session, r1, offers.offer(session, name="Riverside walk"))
    choir = offers.connection(session, r1, offers.offer(session, name="Choir"), C.DECLINED)
    suggested = offers.connection(session, r1, offers.offer(session, name="Lunch club"),
                                  C.SUGGESTED)
    missed = offers.connection(session, r2, offers.offer(session), C.DID_NOT_ATTEND)
    theirs = offers.connection(session, elsewhere, offers.offer(session))
    for connection, day in ((walk, 1), (choir, 10), (suggested, 10), (missed, 20),
                            (theirs, 10)):
        connection.updated_at = at(day)
    db.session.commit()
    return {
        "walk": str(walk.id), "choir": str(choir.id), "suggested": str(suggested.id),
        "missed": str(missed.id), "theirs": str(theirs.id),
        "r1": str(r1.id), "r2": str(r2.id), "elsewhere": str(elsewhere.id),
        "p1": str(r1.patient_id), "p2": str(r2.patient_id),
    }


def latest_audit_id(db) -> int:
    return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def test_a_procedure_is_read_with_its_version(api, town):
    response = api.get(f"Procedure/{town['walk']}")
    assert response.status_code == 200
    body = response.json
    assert (body["id"], body["status"]) == (town["walk"], "completed")
    assert body["basedOn"][0]["reference"] == f"ServiceRequest/{town['r1']}"
    assert response.headers["ETag"] == 'W/"1"' == f'W/"{body["meta"]["versionId"]}"'


def test_a_declined_connection_reads_as_not_done_with_its_reason(api, town):
    body = api.get(f"Procedure/{town['choir']}").json
    assert body["status"] == "not-done"
    assert body["statusReason"]["coding"][0]["code"] == "declined"


def test_another_practices_procedure_is_a_404_just_like_one_that_does_not_exist(
        api, other_api, town):
    hidden = api.get(f"Procedure/{town['theirs']}")
    missing = api.get("Procedure/424242")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json["issue"][0]["code"] == missing.json["issue"][0]["code"] == "not-found"
    assert other_api.get(f"Procedure/{town['theirs']}").status_code == 200
    assert other_api.get(f"Procedure/{town['walk']}").status_code == 404


def test_a_suggested_connection_is_not_a_procedure(api, town):
    assert api.get(f"Procedure/{town['suggested']}").status_code == 404


@pytest.mark.parametrize("procedure_id", [
    "99999999999999999999", "2147483648", "-1", "1e3", "%C2%B2", "t-1", "abc"])
def test_ids_that_cannot_be_ours_are_a_404(api, town, procedure_id):
    assert api.get(f"Procedure/{procedure_id}").json["issue"][0]["code"] == "not-found"


def test_a_procedure_read_is_audited_as_the_api_client_reading_the_persons_record(api, db,
                                                                                 town):
    before = latest_audit_id(db)
    api.get(f"Procedure/{town['walk']}")
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before))
    assert (event.actor_label, event.actor_id, event.action, event.entity_type,
            event.entity_id, event.patient_id) == (
        LABEL, None, "read", "connection", int(town["walk"]), int(town["p1"]))


def test_a_procedure_search_is_audited_with_the_people_it_showed(api, db, town):
    before = latest_audit_id(db)
    api.get(f"Procedure?based-on=ServiceRequest/{town['r1']}")
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before))
    assert (event.actor_label, event.action, event.entity_type) == (LABEL, "search",
                                                                    "connection")
    assert event.detail["patient_ids"] == [int(town["p1"])]
    assert sorted(event.detail["connection_ids"]) == sorted(
        [int(town["walk"]), int(town["choir"])])


def test_a_failed_read_is_not_audited(api, db, town):
    before = latest_audit_id(db)
    api.get(f"Procedure/{town['theirs']}")
    assert latest_audit_id(db) == before


# Every Procedure search parameter the CapabilityStatement declares, with a value and the
# Procedures (of the town above) it must find.
SEARCHES = {
    "_id": ("{walk},{missed},{theirs},{suggested}", {"walk", "missed"}),
    "based-on": ("ServiceRequest/{r1}", {"walk", "choir"}),
    "patient": ("Patient/{p2}", {"missed"}),
    "subject": ("Patient/{p1}", {"walk", "choir"}),
    "status": ("not-done", {"choir", "missed"}),
    "_lastUpdated": ("ge2024-03-10", {"choir", "missed"}),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_each_declared_search_parameter_finds_exactly_its_procedures(api, town, name):
    value, expected = SEARCHES[name]
    response = api.get(f"Procedure?{name}={quote(value.format(**town))}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}
    assert response.json["total"] == len(expected)


@pytest.mark.parametrize("query, expected", [
    ("", {"walk", "choir", "missed"}),
    ("based-on={base}/ServiceRequest/{r2}", {"missed"}),
    ("based-on={r1},{r2}", {"walk", "choir", "missed"}),
    ("based-on=ServiceRequest/{elsewhere}", set()),
    ("based-on=Task/t-{r1}", set()),
    ("status=completed", {"walk"}),
    ("status=completed,not-done", {"walk", "choir", "missed"}),
    ("status=in-progress", set()),
    ("patient=Patient/{p1}&status=completed", {"walk"}),
    ("_lastUpdated=lt2024-03-10", {"walk"}),
])
def test_procedure_searches_take_fhir_value_forms(api, town, query, expected):
    response = api.get(f"Procedure?{query.format(base=BASE, **town)}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}


def test_another_practices_procedures_are_absent_from_searches(other_api, town):
    body = other_api.get(f"Procedure?based-on=ServiceRequest/{town['r1']}").json
    assert body["total"] == 0
    assert ids(other_api.get("Procedure").json) == [town["theirs"]]


@pytest.mark.parametrize("query", ["status=done", "status=attended", "_lastUpdated=soon",
                                   "_count=many", "_after=abc", "_include=Task:focus",
                                   "_include=Procedure:patient"])
def test_a_bad_search_parameter_is_a_400(api, town, query):
    response = api.get(f"Procedure?{query}")
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"


def test_an_unsupported_parameter_is_reported_and_ignored(api, town):
    body = api.get("Procedure?performer=Organization/1").json
    assert body["total"] == 3
    (outcome,) = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome["issue"][0]["code"] == "not-supported"


def test_include_based_on_adds_each_referral_once(api, town):
    body = api.get("Procedure?_include=Procedure:based-on").json
    assert sorted(ids(body, "include")) == sorted([town["r1"], town["r2"]])
    for entry in body["entry"]:
        kind = {"match": "Procedure", "include": "ServiceRequest"}[entry["search"]["mode"]]
        assert entry["resource"]["resourceType"] == kind
        assert entry["fullUrl"] == f"{BASE}/{kind}/{entry['resource']['id']}"


def test_results_page_with_a_next_link_that_walks_them_all(api, town):
    seen, url = [], "Procedure?_count=2"
    while url:
        body = api.get(url).json
        assert body["total"] == 3
        seen += ids(body)
        links = {link["relation"]: link["url"] for link in body["link"]}
        url = links.get("next", "").removeprefix(BASE + "/") or None
    assert sorted(seen) == sorted([town["walk"], town["choir"], town["missed"]])


def test_metadata_declares_exactly_the_tested_parameters_and_the_include(api):
    statement = api.get("metadata", token=None).json
    (entry,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "Procedure"]
    assert {p["name"] for p in entry["searchParam"]} == set(SEARCHES)
    assert entry["searchInclude"] == ["Procedure:based-on"]
    assert entry["versioning"] == "versioned"


@pytest.mark.parametrize("query", [
    "_count=1e3", "_count=99999999999999999999999", "_include=", "_include=*", "status=",
    "status=%00", "patient=", "patient=Patient/", "patient=%00", "_id=%00", "_id=-1",
    "based-on=ServiceRequest/%F0%9F%92%A9", "based-on=ServiceRequest/99999999999999",
    "_lastUpdated=gt2024-01-01T25:00:00Z", "_lastUpdated=ge0001-01-01T00:00:00%2B14:00",
    "_after=99999999999999999999", "_sort=-date", "%FF=1", "status=active&status=",
])
def test_odd_search_parameters_never_produce_a_500(api, town, query):
    response = api.get(f"Procedure?{query}")
    assert response.status_code in (200, 400)
    assert response.json["resourceType"] in ("Bundle", "OperationOutcome")


@pytest.mark.parametrize("query", [
    "ServiceRequest?identifier=%00", "Task?identifier=%00", "Patient?identifier=%00",
    "ServiceRequest?patient:identifier=x%00", "Procedure?status=%00",
    "HealthcareService?name=%00",
])
def test_a_nul_in_a_search_value_is_a_400_not_a_500_on_postgresql(api, query):
    assert api.get(query).status_code == 400

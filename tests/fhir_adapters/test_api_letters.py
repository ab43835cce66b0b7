"""/fhir/DocumentReference and /fhir/Binary: a GP system fetches the outcome letter, as
JSON or as the raw PDF, only for its own practices' referrals."""
from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, ReferralStatus
from tests.fhir_adapters.test_questionnaireresponse import letter

BASE = "http://localhost/fhir"
LABEL = "api-client:Test GP system"
FIRST = b"%PDF-1.4 first version\n%%EOF\n"
SECOND = b"%PDF-1.4 second version\n%%EOF\n"


def ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def latest_audit_id(db) -> int:
    return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


@pytest.fixture
def town(db, make, practice, other_practice):
    """r1 (ours): two versions; r2 (ours): one; elsewhere (other practice): one."""
    session = db.session
    r1 = make.referral(practice, status=ReferralStatus.COMPLETED)
    r2 = make.referral(practice, status=ReferralStatus.DECLINED)
    elsewhere = make.referral(other_practice, status=ReferralStatus.COMPLETED)
    old = letter(session, r1, pdf=FIRST)
    new = letter(session, r1, pdf=SECOND, created_at=datetime(2024, 4, 2, 9, tzinfo=UTC))
    declined = letter(session, r2)
    theirs = letter(session, elsewhere)
    session.commit()
    return {"old": str(old.id), "new": str(new.id), "declined": str(declined.id),
            "theirs": str(theirs.id), "r1": str(r1.id), "r2": str(r2.id),
            "elsewhere": str(elsewhere.id), "p1": str(r1.patient_id),
            "p2": str(r2.patient_id), "ref1": r1.reference}


def test_a_document_reference_is_read_with_its_version(api, town):
    response = api.get(f"DocumentReference/{town['new']}")
    assert response.status_code == 200
    body = response.json
    assert (body["status"], body["content"][0]["attachment"]["url"]) == (
        "current", f"Binary/{town['new']}")
    assert body["context"]["related"][0]["reference"] == f"ServiceRequest/{town['r1']}"
    assert response.headers["ETag"] == 'W/"1"'
    old = api.get(f"DocumentReference/{town['old']}")
    assert old.json["status"] == "superseded"
    assert old.headers["ETag"] == 'W/"2"'


def test_accept_pdf_on_the_binary_returns_the_raw_file(api, town):
    response = api.get(f"Binary/{town['new']}", headers={"Accept": "application/pdf"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == SECOND
    assert response.headers["ETag"] == 'W/"1"'
    assert f"outcome-letter-{town['ref1']}-2.pdf" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("accept", [None, "application/fhir+json", "application/json",
                                    "*/*", "application/fhir+json, application/pdf;q=0.5"])
def test_otherwise_the_binary_is_a_fhir_resource_with_the_pdf_in_base64(api, town, accept):
    headers = {"Accept": accept} if accept else {}
    response = api.get(f"Binary/{town['old']}", headers=headers)  # validated by the caller
    assert response.mimetype == "application/fhir+json"
    assert response.json["contentType"] == "application/pdf"
    assert base64.b64decode(response.json["data"]) == FIRST
    assert response.json["securityContext"]["reference"] == f"DocumentReference/{town['old']}"


def test_format_json_wins_over_accept_pdf(api, town):
    response = api.get(f"Binary/{town['old']}?_format=json",
                       headers={"Accept": "application/pdf"})
    assert response.mimetype == "application/fhir+json"


@pytest.mark.parametrize("path", ["DocumentReference/{new}", "DocumentReference",
                                  "Task/t-{r1}"])
def test_only_the_binary_offers_a_pdf(api, town, path):
    response = api.get(path.format(**town), headers={"Accept": "application/pdf"})
    assert response.status_code == 406
    assert response.json["resourceType"] == "OperationOutcome"


def test_a_binary_in_another_format_is_not_acceptable(api, town):
    response = api.get(f"Binary/{town['new']}", headers={"Accept": "application/xml"})
    assert response.status_code == 406


@pytest.mark.parametrize("accept", [None, "application/pdf"])
def test_another_practices_letter_is_a_404_just_like_one_that_does_not_exist(
        api, other_api, town, accept):
    headers = {"Accept": accept} if accept else {}
    paths = [f"Binary/{town['theirs']}"] + ([] if accept else [
        f"DocumentReference/{town['theirs']}"])
    for path in paths:
        hidden = api.get(path, headers=headers)
        missing = api.get(path.replace(town["theirs"], "424242"), headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.mimetype == "application/fhir+json"
        assert hidden.json["issue"][0]["code"] == "not-found"
        assert other_api.get(path, headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["DocumentReference/abc", "DocumentReference/-1",
                                  "Binary/99999999999999999999", "Binary/t-1", "Binary/1.5"])
def test_ids_that_cannot_be_ours_are_a_404(api, town, path):
    assert api.get(path).status_code == 404


def test_no_token_no_letter(api, town):
    response = api.get(f"Binary/{town['new']}", token=None,
                       headers={"Accept": "application/pdf"})
    assert response.status_code == 401


@pytest.mark.parametrize("accept, fmt", [("application/pdf", "pdf"), (None, "json")])
def test_fetching_the_pdf_is_audited_with_the_person(api, db, town, accept, fmt):
    before = latest_audit_id(db)
    api.get(f"Binary/{town['declined']}", headers={"Accept": accept} if accept else {})
    (event_,) = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before))
    assert (event_.actor_label, event_.action, event_.entity_type, event_.entity_id,
            event_.patient_id) == (LABEL, "read", "outcome-letter", int(town["declined"]),
                                   int(town["p2"]))
    assert (event_.detail["via"], event_.detail["format"]) == ("fhir-binary", fmt)


def test_reads_and_searches_of_document_references_are_audited(api, db, town):
    before = latest_audit_id(db)
    api.get(f"DocumentReference/{town['old']}")
    api.get(f"DocumentReference?related=ServiceRequest/{town['r1']}")
    read, found = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)
                                     .order_by(AuditEvent.id))
    assert (read.action, read.entity_type, read.patient_id) == (
        "read", "outcome-letter", int(town["p1"]))
    assert (found.action, found.detail["patient_ids"]) == ("search", [int(town["p1"])])
    assert sorted(found.detail["letter_ids"]) == sorted([int(town["old"]), int(town["new"])])


def test_a_failed_read_is_not_audited(api, db, town):
    before = latest_audit_id(db)
    api.get(f"Binary/{town['theirs']}", headers={"Accept": "application/pdf"})
    assert latest_audit_id(db) == before


SEARCHES = {
    "_id": ("{old},{theirs}", {"old"}),
    "related": ("ServiceRequest/{r1}", {"old", "new"}),
    "patient": ("Patient/{p2}", {"declined"}),
    "subject": ("Patient/{p1}", {"old", "new"}),
    "status": ("current", {"new", "declined"}),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_each_declared_parameter_finds_exactly_its_document_references(api, town, name):
    value, expected = SEARCHES[name]
    response = api.get(f"DocumentReference?{name}={quote(value.format(**town))}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}
    assert response.json["total"] == len(expected)


@pytest.mark.parametrize("query, expected", [
    ("", {"old", "new", "declined"}),
    ("related={base}/ServiceRequest/{r2}", {"declined"}),
    ("related={r1},{r2}", {"old", "new", "declined"}),
    ("related=ServiceRequest/{elsewhere}", set()),
    ("status=superseded", {"old"}),
    ("status=current,superseded", {"old", "new", "declined"}),
    ("status=entered-in-error", set()),
    ("related=ServiceRequest/{r1}&status=current", {"new"}),
])
def test_document_reference_searches_take_fhir_value_forms(api, town, query, expected):
    response = api.get(f"DocumentReference?{query.format(base=BASE, **town)}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}


def test_results_page_with_a_next_link_that_walks_them_all(api, town):
    seen, url = [], "DocumentReference?_count=2"
    while url:
        body = api.get(url).json
        assert body["total"] == 3
        seen += ids(body)
        links = {link["relation"]: link["url"] for link in body["link"]}
        url = links.get("next", "").removeprefix(BASE + "/") or None
    assert sorted(seen) == sorted([town["old"], town["new"], town["declined"]])


def test_another_practices_letters_are_absent_from_searches(other_api, town):
    assert other_api.get(f"DocumentReference?related={town['r1']}").json["total"] == 0
    assert ids(other_api.get("DocumentReference").json) == [town["theirs"]]


@pytest.mark.parametrize("query", ["status=final", "status=%00", "related=%00", "_count=x",
                                   "_after=abc", "_include=DocumentReference:subject"])
def test_a_bad_search_parameter_is_a_400(api, town, query):
    response = api.get(f"DocumentReference?{query}")
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("query", [
    "_count=1e3", "_id=%00", "_id=-1", "related=", "related=ServiceRequest/",
    "related=ServiceRequest/99999999999999", "patient=Patient/%F0%9F%92%A9", "status=",
    "_after=99999999999999999999", "_sort=-date", "%FF=1", "type=outcome-letter",
])
def test_odd_search_parameters_never_produce_a_500(api, town, query):
    response = api.get(f"DocumentReference?{query}")
    assert response.status_code in (200, 400)
    assert response.json["resourceType"] in ("Bundle", "OperationOutcome")


def test_binary_cannot_be_searched(api, town):
    assert api.get("Binary").status_code in (404, 405)


def test_metadata_declares_exactly_the_tested_parameters(api):
    statement = api.get("metadata", token=None).json
    (entry,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "DocumentReference"]
    assert {p["name"] for p in entry["searchParam"]} == set(SEARCHES)

"""/fhir/Patient: read a referred person, and look them up by NHS number."""
from __future__ import annotations

import pytest

NHS = "https://fhir.nhs.uk/Id/nhs-number"
BASE = "http://localhost/fhir"


@pytest.fixture
def person(db, make, practice):
    referral = make.referral(practice)
    db.session.commit()
    return {"id": str(referral.patient_id), "nhs": referral.patient.nhs_number}


def test_a_referred_person_is_read(api, person):
    response = api.get(f"Patient/{person['id']}")
    assert response.status_code == 200
    body = response.json
    assert body["id"] == person["id"]
    assert body["identifier"][0] == {"system": NHS, "value": person["nhs"]}
    assert body["name"][0]["family"] == "Lovelace"


@pytest.mark.parametrize("patient_id", ["424242", "abc", "1.5", "-1"])
def test_reading_a_person_who_is_not_there_is_a_404(api, person, patient_id):
    response = api.get(f"Patient/{patient_id}")
    assert response.status_code == 404
    assert response.json["issue"][0]["code"] == "not-found"


def test_a_person_is_found_by_nhs_number(api, person):
    body = api.get(f"Patient?identifier={NHS}|{person['nhs']}").json
    assert body["total"] == 1
    (entry,) = body["entry"]
    assert entry["fullUrl"] == f"{BASE}/Patient/{person['id']}"
    assert entry["search"] == {"mode": "match"}


def test_an_nhs_number_without_its_system_also_finds_them(api, person):
    assert api.get(f"Patient?identifier={person['nhs']}").json["total"] == 1


def test_an_nhs_number_nobody_was_referred_with_finds_no_one(api, make, person):
    body = api.get(f"Patient?identifier={NHS}|{make.nhs_number()}").json
    assert (body["total"], body.get("entry")) == (0, None)


def test_searching_by_another_identifier_system_is_a_400(api, person):
    response = api.get(f"Patient?identifier=https://example.org/mrn|{person['nhs']}")
    assert response.status_code == 400
    assert response.json["issue"][0]["code"] == "not-supported"


def test_a_person_is_found_by_id(api, person):
    assert api.get(f"Patient?_id={person['id']}").json["total"] == 1


def test_an_undeclared_patient_search_parameter_is_reported_not_silently_ignored(api, person):
    body = api.get("Patient?name=Smith").json
    outcomes = [e for e in body.get("entry", []) if e["search"]["mode"] == "outcome"]
    assert outcomes and outcomes[0]["resource"]["issue"][0]["expression"] == ["name"]


def test_patient_results_page_with_a_next_link_that_walks_them_all(api, db, make, practice):
    people = {str(make.referral(practice).patient_id) for _ in range(5)}
    db.session.commit()
    seen, url = [], "Patient?_count=2"
    while url:
        body = api.get(url).json
        assert body["total"] == 5
        assert len(body.get("entry", [])) <= 2
        seen += [e["resource"]["id"] for e in body.get("entry", [])]
        links = {link["relation"]: link["url"] for link in body["link"]}
        url = links.get("next", "").removeprefix(BASE + "/") or None
    assert seen == sorted(people, key=int)


def test_a_patient_cursor_that_is_not_ours_is_a_400(api, person):
    response = api.get("Patient?_after=abc")
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"

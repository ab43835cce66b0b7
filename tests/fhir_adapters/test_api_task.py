"""/fhir/Task: GP systems read and poll a referral's workflow to close the loop."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from referrals import workflow
from referrals.models import Referral, ReferralStatus, Role

S = ReferralStatus
BASE = "http://localhost/fhir"
BUSINESS = "https://kindly.example/fhir/CodeSystem/referral-status"


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def at(day: int) -> datetime:
    return datetime(2024, 3, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def referrer(make, practice):
    return make.user(Role.REFERRER, practice=practice)


@pytest.fixture
def connector(make, practice):
    return make.user(Role.CONNECTOR, team=practice.team)


@pytest.fixture
def town(db, make, practice, other_practice, referrer, connector):
    """a: received, unassigned (1 March); b: in progress with `connector` (10 March);
    c: rejected (20 March); and one at another practice."""
    a = make.referral(practice, referrer=referrer)
    b = make.referral(practice, referrer=referrer, connector=connector,
                      status=S.IN_PROGRESS)
    c = make.referral(practice, referrer=referrer, status=S.REJECTED)
    elsewhere = make.referral(other_practice)
    for referral, day in ((a, 1), (b, 10), (c, 20), (elsewhere, 10)):
        referral.created_at = referral.updated_at = at(day)
    db.session.commit()
    return {
        "a": f"t-{a.id}", "b": f"t-{b.id}", "c": f"t-{c.id}",
        "a_sr": str(a.id), "b_sr": str(b.id), "a_patient": str(a.patient_id),
        "a_ref": a.reference, "connector": str(connector.id), "team": str(practice.team_id),
        "referrer": str(referrer.id),
    }


def test_a_task_is_read_with_its_version(api, town):
    response = api.get(f"Task/{town['a']}")
    assert response.status_code == 200
    body = response.json
    assert (body["id"], body["status"]) == (town["a"], "requested")
    assert body["focus"]["reference"] == f"ServiceRequest/{town['a_sr']}"
    assert response.headers["ETag"] == f'W/"{body["meta"]["versionId"]}"'


@pytest.mark.parametrize("task_id", ["424242", "t-424242", "t-", "t-abc", "T-1", "x-1"])
def test_a_task_id_that_is_not_one_of_ours_is_a_404(api, town, task_id):
    response = api.get(f"Task/{task_id}")
    assert response.status_code == 404
    assert response.json["issue"][0]["code"] == "not-found"


def test_a_service_request_id_is_not_a_task_id(api, town):
    assert api.get(f"Task/{town['a_sr']}").status_code == 404


# Every Task search parameter the CapabilityStatement declares, with a value and the
# Tasks (of the town above) it must find.
SEARCHES = {
    "_id": ("{a},{c}", {"a", "c"}),
    "identifier": ("https://kindly.example/fhir/Id/referral|{a_ref}", {"a"}),
    "focus": ("ServiceRequest/{a_sr}", {"a"}),
    "patient": ("Patient/{a_patient}", {"a"}),
    "subject": ("Patient/{a_patient}", {"a"}),
    "status": ("rejected", {"c"}),
    "business-status": (f"{BUSINESS}|in-progress", {"b"}),
    "owner": ("PractitionerRole/pr-{connector}", {"b"}),
    "requester": ("PractitionerRole/pr-{referrer}", {"a", "b", "c"}),
    "authored-on": ("le2024-03-10", {"a", "b"}),
    "_lastUpdated": ("gt2024-03-10", {"c"}),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_each_declared_search_parameter_finds_exactly_its_tasks(api, town, name):
    value, expected = SEARCHES[name]
    response = api.get(f"Task?{name}={quote(value.format(**town))}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}
    assert response.json["total"] == len(expected)


@pytest.mark.parametrize("query, expected", [
    ("focus={base}/ServiceRequest/{b_sr}", {"b"}),
    ("focus={a_sr}", {"a"}),
    ("status=requested,in-progress", {"a", "b"}),
    ("status=cancelled", set()),
    ("business-status=received", {"a"}),
    ("owner=Organization/team-{team}", {"a", "c"}),
    ("owner=Organization/team-{team},PractitionerRole/pr-{connector}", {"a", "b", "c"}),
    ("owner=Practitioner/u-{connector}", set()),
    ("_lastUpdated=ge2024-03-10&_lastUpdated=le2024-03-10", {"b"}),
])
def test_task_searches_take_fhir_value_forms(api, town, query, expected):
    response = api.get(f"Task?{query.format(base=BASE, **town)}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}


@pytest.mark.parametrize("query", ["status=done", "business-status=open", "_lastUpdated=soon"])
def test_a_task_search_with_an_unknown_code_or_date_is_a_400(api, town, query):
    assert api.get(f"Task?{query}").status_code == 400


def test_include_focus_adds_the_service_requests(api, town):
    body = api.get("Task?status=requested,in-progress&_include=Task:focus").json
    assert sorted(ids(body, "include")) == sorted([town["a_sr"], town["b_sr"]])
    for entry in body["entry"]:
        kind = {"match": "Task", "include": "ServiceRequest"}[entry["search"]["mode"]]
        assert entry["resource"]["resourceType"] == kind
        assert entry["fullUrl"] == f"{BASE}/{kind}/{entry['resource']['id']}"


def test_an_include_of_the_service_requests_kind_is_refused_on_tasks(api, town):
    assert api.get("Task?_include=ServiceRequest:patient").status_code == 400


def test_polling_by_last_updated_sees_a_connectors_change(api, db, town):
    since = "gt2024-03-21"
    assert api.get(f"Task?_lastUpdated={since}").json["total"] == 0
    referral = db.session.get(Referral, int(town["a_sr"]))
    workflow.transition(referral, S.ACCEPTED, actor=None, actor_label="connector",
                        now=at(25))
    db.session.commit()
    body = api.get(f"Task?_lastUpdated={since}").json
    assert ids(body) == [town["a"]]
    task = body["entry"][0]["resource"]
    assert (task["status"], task["meta"]["versionId"]) == ("accepted", "2")
    assert task["meta"]["lastUpdated"] == "2024-03-25T12:00:00Z"


def test_every_state_change_bumps_the_tasks_version(api, db, town):
    versions = [api.get(f"Task/{town['a']}").json["meta"]["versionId"]]
    for step in (S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED):
        workflow.transition(db.session.get(Referral, int(town["a_sr"])), step, actor=None)
        db.session.commit()
        response = api.get(f"Task/{town['a']}")
        versions.append(response.json["meta"]["versionId"])
        assert response.headers["ETag"] == f'W/"{versions[-1]}"'
    assert versions == ["1", "2", "3", "4"]

"""/fhir/QuestionnaireResponse and /fhir/Observation: outcome measures, scoped and audited
like the referral, referenced from Task.output."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import event, select

from referrals.extensions import db as _db
from referrals.models import AuditEvent, Referral, ReferralStatus, Timepoint
from tests.counting import reads
from tests.fhir_adapters.test_questionnaireresponse import letter, measurement

BASE = "http://localhost/fhir"
LABEL = "api-client:Test GP system"
SCORES = "https://kindly.example/fhir/CodeSystem/outcome-score"
TASK_OUTPUT = "https://kindly.example/fhir/CodeSystem/task-output"


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def latest_audit_id(db) -> int:
    return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


@pytest.fixture
def town(db, make, practice, other_practice):
    """r1 (ours): ONS4 at baseline and follow-up; r2 (ours): UCLA-3 at baseline;
    elsewhere (the other practice): ONS4 at baseline."""
    session = db.session
    r1 = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
    r2 = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
    elsewhere = make.referral(other_practice, status=ReferralStatus.IN_PROGRESS)
    base = measurement(session, r1)
    follow = measurement(session, r1, timepoint=Timepoint.FOLLOW_UP,
                         completed_on=date(2024, 5, 1),
                         scores={"life_satisfaction": 8, "worthwhile": 8, "happiness": 7,
                                 "anxiety": 2})
    ucla = measurement(session, r2, "ucla3",
                       answers={"lack_companionship": 3, "left_out": 2, "isolated": 3},
                       scores={"loneliness": 8})
    theirs = measurement(session, elsewhere)
    session.commit()
    return {
        "base": str(base.id), "follow": str(follow.id), "ucla": str(ucla.id),
        "theirs": str(theirs.id), "r1": str(r1.id), "r2": str(r2.id),
        "elsewhere": str(elsewhere.id), "p1": str(r1.patient_id), "p2": str(r2.patient_id),
    }


# --- QuestionnaireResponse ---------------------------------------------------------------


def test_a_questionnaire_response_is_read_with_its_version(api, town):
    response = api.get(f"QuestionnaireResponse/{town['base']}")
    assert response.status_code == 200
    body = response.json
    assert (body["id"], body["status"]) == (town["base"], "completed")
    assert body["basedOn"][0]["reference"] == f"ServiceRequest/{town['r1']}"
    assert body["item"][0]["text"] == "Overall, how satisfied are you with your life nowadays?"
    assert response.headers["ETag"] == 'W/"1"'


def test_another_practices_measurement_is_a_404_just_like_one_that_does_not_exist(
        api, other_api, town):
    for path in (f"QuestionnaireResponse/{town['theirs']}",
                 f"Observation/{town['theirs']}-happiness"):
        hidden, missing = api.get(path), api.get(path.replace(town["theirs"], "424242"))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json["issue"][0]["code"] == "not-found"
        assert other_api.get(path).status_code == 200


@pytest.mark.parametrize("path", [
    "QuestionnaireResponse/99999999999999999999", "QuestionnaireResponse/-1",
    "QuestionnaireResponse/t-1", "QuestionnaireResponse/abc", "Observation/abc",
    "Observation/1", "Observation/-happiness", "Observation/99999999999-happiness",
    "Observation/{base}-", "Observation/{base}-nonsense", "Observation/{base}-life_satisfaction",
])
def test_ids_that_cannot_be_ours_are_a_404(api, town, path):
    response = api.get(path.format(**town))
    assert response.status_code == 404
    assert response.json["issue"][0]["code"] == "not-found"


def test_reads_are_audited_as_the_client_reading_the_persons_record(api, db, town):
    before = latest_audit_id(db)
    api.get(f"QuestionnaireResponse/{town['base']}")
    api.get(f"Observation/{town['base']}-happiness")
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)
                                     .order_by(AuditEvent.id)))
    assert [(e.actor_label, e.action, e.entity_type, e.entity_id, e.patient_id)
            for e in events] == [(LABEL, "read", "measurement", int(town["base"]),
                                  int(town["p1"]))] * 2
    assert events[1].detail["score"] == "happiness"


def test_searches_are_audited_with_the_people_they_showed(api, db, town):
    before = latest_audit_id(db)
    api.get(f"Observation?based-on=ServiceRequest/{town['r2']}")
    (event_,) = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before))
    assert (event_.action, event_.entity_type, event_.detail["resource"]) == (
        "search", "measurement", "Observation")
    assert event_.detail["patient_ids"] == [int(town["p2"])]
    assert event_.detail["observation_ids"] == [f"{town['ucla']}-loneliness"]


def test_a_failed_read_is_not_audited(api, db, town):
    before = latest_audit_id(db)
    api.get(f"QuestionnaireResponse/{town['theirs']}")
    assert latest_audit_id(db) == before


QR_SEARCHES = {
    "_id": ("{base},{theirs},{ucla}", {"base", "ucla"}),
    "based-on": ("ServiceRequest/{r1}", {"base", "follow"}),
    "patient": ("Patient/{p2}", {"ucla"}),
    "subject": ("Patient/{p1}", {"base", "follow"}),
    "questionnaire": ("https://kindly.example/fhir/Questionnaire/ucla3", {"ucla"}),
}


@pytest.mark.parametrize("name", QR_SEARCHES)
def test_each_declared_parameter_finds_exactly_its_questionnaire_responses(api, town, name):
    value, expected = QR_SEARCHES[name]
    response = api.get(f"QuestionnaireResponse?{name}={quote(value.format(**town))}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}
    assert response.json["total"] == len(expected)


@pytest.mark.parametrize("query, expected", [
    ("", {"base", "follow", "ucla"}),
    ("based-on={base_url}/ServiceRequest/{r2}", {"ucla"}),
    ("based-on={r1},{r2}", {"base", "follow", "ucla"}),
    ("based-on=ServiceRequest/{elsewhere}", set()),
    ("based-on=Task/t-{r1}", set()),
    ("questionnaire=https://kindly.example/fhir/Questionnaire/ons4|1", {"base", "follow"}),
    ("questionnaire=https://kindly.example/fhir/Questionnaire/ons4|2", set()),
    ("questionnaire=Questionnaire/ons4,ucla3", {"base", "follow", "ucla"}),
    ("questionnaire=ValueSet/ons4", set()),
    ("patient=Patient/{p1}&questionnaire=ucla3", set()),
])
def test_questionnaire_response_searches_take_fhir_value_forms(api, town, query, expected):
    response = api.get(f"QuestionnaireResponse?{query.format(base_url=BASE, **town)}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}


# --- Observation -------------------------------------------------------------------------


def test_an_observation_is_read_with_its_score(api, town):
    response = api.get(f"Observation/{town['follow']}-anxiety")
    assert response.status_code == 200
    body = response.json
    assert body["valueQuantity"]["value"] == 2
    assert body["code"]["coding"][0]["code"] == "ons4-anxiety"
    assert body["derivedFrom"][0]["reference"] == f"QuestionnaireResponse/{town['follow']}"


def obs(town, key, *scores):
    return {f"{town[key]}-{s}" for s in scores}


ONS4 = ("life-satisfaction", "worthwhile", "happiness", "anxiety")
OBSERVATION_SEARCHES = {
    "_id": ("{base}-happiness,{theirs}-happiness,{ucla}-loneliness,{base}-nope",
            lambda t: obs(t, "base", "happiness") | obs(t, "ucla", "loneliness")),
    "based-on": ("ServiceRequest/{r2}", lambda t: obs(t, "ucla", "loneliness")),
    "patient": ("Patient/{p1}", lambda t: obs(t, "base", *ONS4) | obs(t, "follow", *ONS4)),
    "subject": ("Patient/{p2}", lambda t: obs(t, "ucla", "loneliness")),
    "code": (f"{SCORES}|ons4-anxiety",
             lambda t: obs(t, "base", "anxiety") | obs(t, "follow", "anxiety")),
}


@pytest.mark.parametrize("name", OBSERVATION_SEARCHES)
def test_each_declared_parameter_finds_exactly_its_observations(api, town, name):
    value, expected = OBSERVATION_SEARCHES[name]
    response = api.get(f"Observation?{name}={quote(value.format(**town))}")
    assert response.status_code == 200
    assert set(ids(response.json)) == expected(town)
    assert response.json["total"] == len(expected(town))


@pytest.mark.parametrize("query, expected", [
    ("code=ucla3-loneliness", lambda t: obs(t, "ucla", "loneliness")),
    ("code=ons4-happiness,ucla3-loneliness",
     lambda t: obs(t, "base", "happiness") | obs(t, "follow", "happiness")
     | obs(t, "ucla", "loneliness")),
    ("code=http://loinc.org|ons4-happiness", lambda t: set()),
    ("code=ons4-happiness&patient=Patient/{p2}", lambda t: set()),
    ("_id=Observation/{base}-worthwhile", lambda t: obs(t, "base", "worthwhile")),
])
def test_observation_searches_take_fhir_value_forms(api, town, query, expected):
    response = api.get(f"Observation?{query.format(**town)}")
    assert response.status_code == 200
    assert set(ids(response.json)) == expected(town)
    assert response.json["total"] == len(expected(town))


@pytest.mark.parametrize("resource_type, total", [("Observation", 9),
                                                  ("QuestionnaireResponse", 3)])
def test_results_page_with_a_next_link_that_walks_them_all(api, town, resource_type, total):
    seen, url = [], f"{resource_type}?_count=2"
    while url:
        body = api.get(url).json
        assert body["total"] == total
        seen += ids(body)
        links = {link["relation"]: link["url"] for link in body["link"]}
        url = links.get("next", "").removeprefix(BASE + "/") or None
    assert len(seen) == len(set(seen)) == total


def test_another_practices_measurements_are_absent_from_searches(other_api, town):
    assert other_api.get(f"QuestionnaireResponse?based-on={town['r1']}").json["total"] == 0
    assert ids(other_api.get("QuestionnaireResponse").json) == [town["theirs"]]
    assert other_api.get("Observation").json["total"] == 4


@pytest.mark.parametrize("query", [
    "QuestionnaireResponse?_count=many", "QuestionnaireResponse?_after=abc",
    "QuestionnaireResponse?_include=QuestionnaireResponse:based-on",
    "Observation?_count=-1", "Observation?_after=abc", "Observation?_after=1",
    "Observation?_include=Observation:based-on", "Observation?code=%00",
    "QuestionnaireResponse?questionnaire=%00", "Observation?patient=x%00",
])
def test_a_bad_search_parameter_is_a_400(api, town, query):
    response = api.get(query)
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("resource_type", ["QuestionnaireResponse", "Observation"])
@pytest.mark.parametrize("query", [
    "_count=1e3", "_count=99999999999999999999999", "_id=%00", "_id=-1", "_id=",
    "based-on=ServiceRequest/%F0%9F%92%A9", "based-on=ServiceRequest/99999999999999",
    "patient=", "patient=Patient/", "code=", "code=|", "questionnaire=|",
    "questionnaire=Questionnaire/", "_after=99999999999999999999", "_sort=-date", "%FF=1",
    "_id=99999999999999-x", "_after=99999999999999-x", "status=final",
])
def test_odd_search_parameters_never_produce_a_500(api, town, resource_type, query):
    response = api.get(f"{resource_type}?{query}")
    assert response.status_code in (200, 400)
    assert response.json["resourceType"] in ("Bundle", "OperationOutcome")


def test_an_unsupported_parameter_is_reported_and_ignored(api, town):
    body = api.get("QuestionnaireResponse?status=completed").json
    assert body["total"] == 3
    (outcome,) = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome["issue"][0]["code"] == "not-supported"


def test_metadata_declares_exactly_the_tested_parameters(api):
    statement = api.get("metadata", token=None).json
    declared = {r["type"]: {p["name"] for p in r.get("searchParam", [])}
                for r in statement["rest"][0]["resource"]}
    assert declared["QuestionnaireResponse"] == set(QR_SEARCHES)
    assert declared["Observation"] == set(OBSERVATION_SEARCHES)


def statements_for(path: str, api) -> int:
    seen = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        assert api.get(path).status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    return len(seen)


@pytest.mark.parametrize("path", ["QuestionnaireResponse?_count=100", "Observation?_count=100",
                                  "Task?_count=100"])
def test_searches_do_not_query_once_per_row(api, db, make, practice, path):
    def add_referral_with_outcomes():
        referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
        measurement(db.session, referral)
        measurement(db.session, referral, timepoint=Timepoint.FOLLOW_UP)
        letter(db.session, referral)
        db.session.commit()

    add_referral_with_outcomes()
    one = statements_for(path, api)
    for _ in range(3):
        add_referral_with_outcomes()
    assert statements_for(path, api) == one


# --- Task.output -------------------------------------------------------------------------


def test_the_task_lists_each_measurement_its_scores_and_the_current_letter(api, db, town):
    referral_id = int(town["r1"])
    referral = db.session.get(Referral, referral_id)
    letter(db.session, referral)
    current = letter(db.session, referral)
    db.session.commit()
    outputs = api.get(f"Task/t-{referral_id}").json["output"]
    kinds = [(o["type"]["coding"][0]["system"], o["type"]["coding"][0]["code"],
              o["valueReference"]["reference"]) for o in outputs]
    expected = []
    for key in ("base", "follow"):
        expected.append((TASK_OUTPUT, "outcome-measure", f"QuestionnaireResponse/{town[key]}"))
        expected += [(TASK_OUTPUT, "outcome-score", f"Observation/{town[key]}-{s}")
                     for s in ONS4]
    expected.append((TASK_OUTPUT, "outcome-letter", f"DocumentReference/{current.id}"))
    assert kinds == expected


def test_every_outcome_the_task_lists_can_be_read_by_the_same_client_and_no_other(
        api, other_api, db, town):
    letter(db.session, db.session.get(Referral, int(town["r2"])))
    db.session.commit()
    outputs = api.get(f"Task/t-{town['r2']}").json["output"]
    assert len(outputs) == 3
    for output in outputs:
        path = output["valueReference"]["reference"]
        response = api.get(path)
        assert response.status_code == 200, path
        based_on = response.json.get("basedOn") or response.json["context"]["related"]
        assert based_on[0]["reference"] == f"ServiceRequest/{town['r2']}"
        assert other_api.get(path).status_code == 404


def test_an_observation_page_reads_the_same_rows_however_many_measurements_match(
        api, db, make, practice):
    def add_referrals(n):
        for _ in range(n):
            referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
            measurement(db.session, referral)
            measurement(db.session, referral, timepoint=Timepoint.FOLLOW_UP)
        db.session.commit()

    def rows_for(path):
        with reads(db) as found:
            response = api.get(path)
        assert response.status_code == 200
        return found.rows, response.json

    add_referrals(3)
    few, small = rows_for("Observation?_count=3&code=ons4-happiness,ons4-anxiety")
    add_referrals(10)
    many, big = rows_for("Observation?_count=3&code=ons4-happiness,ons4-anxiety")
    # The page is the same size and the total still right: counted, not fetched.
    assert (len(ids(small)), small["total"]) == (3, 12)
    assert (len(ids(big)), big["total"]) == (3, 52)
    assert many == few


def test_an_observation_cursor_inside_a_measurement_goes_on_from_the_next_score(api, town):
    first = api.get("Observation?_count=2").json
    after = {link["relation"]: link["url"] for link in first["link"]}["next"]
    assert f"_after={town['base']}-worthwhile" in after
    rest = api.get(after.removeprefix(BASE + "/").replace("_count=2", "_count=100")).json
    assert ids(rest)[:2] == [f"{town['base']}-happiness", f"{town['base']}-anxiety"]
    assert len(ids(first)) + len(ids(rest)) == 9

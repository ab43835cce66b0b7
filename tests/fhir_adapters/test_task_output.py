"""Task.output: the loop closes with a reference to each connection's Procedure (Gravity
resulting-activity), and the GP system that reads the Task can read every one."""
from __future__ import annotations

import pytest
from fhir.resources.R4B.task import Task
from sqlalchemy import event

from fhir_adapters import task as task_map
from referrals.extensions import db as _db
from referrals.models import ConnectionStatus, ReferralStatus
from tests.fhir_adapters import offers

C = ConnectionStatus
SDOHCC_TEMPORARY = ("http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/"
                    "SDOHCC-CodeSystemTemporaryCodes")


@pytest.fixture
def referral(make, practice):
    return make.referral(practice, status=ReferralStatus.IN_PROGRESS)


def test_a_task_without_ended_connections_has_no_output(db, referral):
    offers.connection(db.session, referral, offers.offer(db.session), C.SUGGESTED)
    offers.connection(db.session, referral, offers.offer(db.session), C.ACCEPTED)
    assert "output" not in task_map.to_fhir(referral)


def test_each_ended_connection_is_a_resulting_activity_output_in_order(db, referral):
    walk = offers.offer(db.session, name="Riverside walk")
    choir = offers.offer(db.session, name="Community choir")
    attended = offers.connection(db.session, referral, walk, C.ATTENDED)
    offers.connection(db.session, referral, offers.offer(db.session), C.SUGGESTED)
    missed = offers.connection(db.session, referral, choir, C.DID_NOT_ATTEND)
    resource = task_map.to_fhir(referral)
    Task.model_validate(resource)
    assert resource["output"] == [
        {"type": {"coding": [{"system": SDOHCC_TEMPORARY, "code": "resulting-activity",
                              "display": "Resulting Activity"}]},
         "valueReference": {"reference": f"Procedure/{attended.id}",
                            "display": "Riverside walk: attended"}},
        {"type": {"coding": [{"system": SDOHCC_TEMPORARY, "code": "resulting-activity",
                              "display": "Resulting Activity"}]},
         "valueReference": {"reference": f"Procedure/{missed.id}",
                            "display": "Community choir: did not attend"}},
    ]


@pytest.mark.parametrize("status", [C.ATTENDED, C.DECLINED, C.DID_NOT_ATTEND, C.NO_CAPACITY,
                                    C.WITHDRAWN])
def test_every_task_output_is_a_procedure_the_same_client_can_read(api, db, referral,
                                                                   status):
    offers.connection(db.session, referral, offers.offer(db.session), status)
    db.session.commit()
    task = api.get(f"Task/t-{referral.id}").json
    (output,) = task["output"]
    response = api.get(output["valueReference"]["reference"])
    assert response.status_code == 200
    assert response.json["basedOn"][0]["reference"] == f"ServiceRequest/{referral.id}"


def test_another_practice_sees_neither_the_task_nor_its_procedures(api, other_api, db,
                                                                   referral):
    offers.connection(db.session, referral, offers.offer(db.session))
    db.session.commit()
    (output,) = api.get(f"Task/t-{referral.id}").json["output"]
    assert other_api.get(output["valueReference"]["reference"]).status_code == 404


def test_task_searches_carry_outputs_without_a_query_per_task(api, db, make, practice):
    def statements_for_search() -> int:
        seen = []
        engine = _db.engine

        def listener(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        try:
            body = api.get("Task?_count=100").json
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert all("output" in e["resource"] for e in body["entry"])
        return len(seen)

    def add_referral_with_connections():
        referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
        for status in (C.ATTENDED, C.DECLINED):
            offers.connection(db.session, referral, offers.offer(db.session), status)
        db.session.commit()

    add_referral_with_connections()
    one = statements_for_search()
    for _ in range(3):
        add_referral_with_connections()
    assert one > 0
    assert statements_for_search() == one


def test_a_task_for_someone_who_gave_no_nhs_number_names_them_without_one(api, db, referral):
    referral.patient.nhs_number = None  # a self-referral may leave it out
    offers.connection(db.session, referral, offers.offer(db.session))
    db.session.commit()
    task = api.get(f"Task/t-{referral.id}").json  # validated by the Api caller
    assert task["for"] == {"reference": f"Patient/{referral.patient_id}",
                           "display": referral.patient.full_name}

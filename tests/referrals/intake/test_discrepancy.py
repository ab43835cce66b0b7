"""A referral from one practice for a person Kindly holds for another, matched on NHS
number alone, never changes that person: the difference waits for a coordinator."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from referrals.errors import NotPermitted
from referrals.intake import discrepancy as discrepancies
from referrals.intake.service import create_referral
from referrals.models import (
    AuditEvent,
    Patient,
    PatientDiscrepancy,
    ReferralStatus,
    Resolution,
    Role,
)
from tests.fhir_adapters import payloads
from tests.fhir_adapters.conftest import Api

S = ReferralStatus
STORED = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": date(1950, 3, 31),
          "postcode": "LS1 4AP", "phone": "07700 900123", "email": "ada@example.org"}
SENT = {"given_name": "Adah", "family_name": "Byron", "birth_date": date(1951, 4, 1),
        "postcode": "LS6 2UE", "phone": "07700 900999", "email": "someone.else@example.org"}


@pytest.fixture
def world(make):
    team = make.team()
    alpha = make.practice(team=team, ods_code="A12345", name="Alpha Surgery")
    beta = make.practice(team=team, ods_code="B67890", name="Beta Surgery")
    return SimpleNamespace(
        team=team, alpha=alpha, beta=beta,
        alpha_referrer=make.user(Role.REFERRER, practice=alpha),
        beta_referrer=make.user(Role.REFERRER, practice=beta),
        connector=make.user(Role.CONNECTOR, team=team, capacity=10),
        coordinator=make.user(Role.COORDINATOR, team=team),
        other_coordinator=make.user(Role.COORDINATOR),
    )


def known_person(make, world):
    """Someone Alpha Surgery referred before; that referral is finished."""
    earlier = make.referral(world.alpha, referrer=world.alpha_referrer, status=S.COMPLETED,
                            person=dict(STORED))
    return earlier.patient


def stored_details(db, patient_id) -> dict:
    db.session.expire_all()
    patient = db.session.get(Patient, patient_id)
    return {"given_name": patient.given_name, "family_name": patient.family_name,
            "birth_date": patient.birth_date, "postcode": patient.postcode,
            "phone": patient.phone, "email": patient.email, "practice_id": patient.practice_id}


def as_stored(world) -> dict:
    return {**STORED, "practice_id": world.alpha.id}


def test_another_practices_referral_keeps_the_stored_details_and_records_the_difference(
        db, make, world):
    patient = known_person(make, world)
    intake = make.intake(world.beta, person={"nhs_number": patient.nhs_number, **SENT})

    referral = create_referral(intake, actor=world.beta_referrer)

    assert referral.patient_id == patient.id and referral.practice_id == world.beta.id
    assert stored_details(db, patient.id) == as_stored(world)
    [found] = db.session.scalars(select(PatientDiscrepancy)).all()
    assert (found.patient_id, found.referral_id) == (patient.id, referral.id)
    assert (found.source_practice_id, found.stored_practice_id) == (world.beta.id, world.alpha.id)
    assert found.sent == {"given_name": "Adah", "family_name": "Byron",
                          "birth_date": "1951-04-01", "postcode": "LS6 2UE",
                          "phone": "07700 900999", "email": "someone.else@example.org"}
    assert found.stored["family_name"] == "Lovelace" and found.stored["birth_date"] == "1950-03-31"
    assert found.is_open and found.resolution is None
    created = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "create", AuditEvent.entity_id == referral.id)).one()
    assert created.detail["details_to_check"] is True


def test_a_move_of_practice_alone_is_a_difference_too(db, make, world):
    patient = known_person(make, world)
    intake = make.intake(world.beta, person={"nhs_number": patient.nhs_number, **STORED})

    create_referral(intake, actor=world.beta_referrer)

    [found] = db.session.scalars(select(PatientDiscrepancy)).all()
    assert found.sent == {} and found.source_practice_id == world.beta.id
    assert stored_details(db, patient.id)["practice_id"] == world.alpha.id


def test_the_same_practice_updates_its_own_patient(db, make, world):
    patient = known_person(make, world)
    intake = make.intake(world.alpha, person={"nhs_number": patient.nhs_number, **SENT})

    create_referral(intake, actor=world.alpha_referrer)

    assert stored_details(db, patient.id) == {**SENT, "practice_id": world.alpha.id}
    assert db.session.scalar(select(func.count(PatientDiscrepancy.id))) == 0


def test_through_the_referral_form(client, db, make, world, valid_form):
    patient = known_person(make, world)
    db.session.commit()
    client.submit("/login", {"email": world.beta_referrer.email,
                             "password": "correct horse battery"})

    response = client.submit("/referrals/new", valid_form(
        nhs_number=patient.nhs_number, given_name="Adah", family_name="Byron",
        birth_date="01/04/1951", postcode="LS6 2UE", phone="07700 900999"))

    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored_details(db, patient.id) == as_stored(world)
    [found] = db.session.scalars(select(PatientDiscrepancy)).all()
    assert found.sent["family_name"] == "Byron" and found.source_practice_id == world.beta.id


def test_through_the_fhir_api(client, db, make, world):
    from referrals.admin.service import create_api_client

    patient = known_person(make, world)
    _, token = create_api_client("Beta GP system", [world.beta], actor=None, actor_label="t")
    db.session.commit()
    bundle = payloads.transaction(patient.nhs_number, ods_code="B67890")
    payloads.entry(bundle, "Patient")["name"] = [{"family": "Byron", "given": ["Adah"]}]

    response = Api(client, token).post("", bundle)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert stored_details(db, patient.id) == as_stored(world)
    [found] = db.session.scalars(select(PatientDiscrepancy)).all()
    assert found.sent["family_name"] == "Byron" and found.sent["given_name"] == "Adah"
    assert found.source_practice_id == world.beta.id


def discrepancy_for(make, world):
    patient = known_person(make, world)
    referral = create_referral(make.intake(world.beta, person={
        "nhs_number": patient.nhs_number, **SENT}), actor=world.beta_referrer)
    return patient, referral, referral_discrepancy(make.session, referral)


def referral_discrepancy(session, referral):
    return session.scalars(select(PatientDiscrepancy).where(
        PatientDiscrepancy.referral_id == referral.id)).one()


def test_the_coordinator_lists_them_and_keeps_the_stored_details(client, db, make, world, page):
    patient, referral, found = discrepancy_for(make, world)
    db.session.commit()
    client.submit("/login", {"email": world.coordinator.email,
                             "password": "correct horse battery"})

    listing = page(client.get("/hub/discrepancies"))
    assert referral.reference in listing.text() and "Beta Surgery" in listing.text()
    shown = page(client.get(f"/hub/discrepancies/{found.id}"))
    assert "Lovelace" in shown.text() and "Byron" in shown.text()
    response = client.submit(f"/hub/discrepancies/{found.id}", {"resolution": "keep"})

    assert response.status_code == 302
    assert stored_details(db, patient.id) == as_stored(world)
    found = db.session.get(PatientDiscrepancy, found.id)
    assert found.resolution is Resolution.KEPT and found.resolved_by_id == world.coordinator.id
    assert "There are no details to check" in page(client.get("/hub/discrepancies")).text()
    audit = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "resolve-discrepancy")).one()
    assert audit.patient_id == patient.id and audit.detail["resolution"] == "kept"


def test_accepting_updates_the_person_and_moves_their_practice(client, db, make, world):
    patient, _, found = discrepancy_for(make, world)
    db.session.commit()
    client.submit("/login", {"email": world.coordinator.email,
                             "password": "correct horse battery"})

    response = client.submit(f"/hub/discrepancies/{found.id}", {"resolution": "accept"})

    assert response.status_code == 302
    assert stored_details(db, patient.id) == {**SENT, "practice_id": world.beta.id}
    assert db.session.get(PatientDiscrepancy, found.id).resolution is Resolution.ACCEPTED


def test_a_choice_is_required_and_shown_next_to_the_field(client, db, make, world, page):
    _, _, found = discrepancy_for(make, world)
    db.session.commit()
    client.submit("/login", {"email": world.coordinator.email,
                             "password": "correct horse battery"})

    response = client.submit(f"/hub/discrepancies/{found.id}", {})

    assert response.status_code == 422
    assert "Choose whether" in page(response).error_for("resolution")
    assert db.session.get(PatientDiscrepancy, found.id).is_open


def test_only_a_coordinator_of_the_team_resolves_and_only_once(db, make, world):
    _, _, found = discrepancy_for(make, world)

    with pytest.raises(NotPermitted):
        discrepancies.resolve(found, actor=world.connector, accept=True)
    with pytest.raises(NotPermitted):
        discrepancies.resolve(found, actor=world.other_coordinator, accept=True)
    discrepancies.resolve(found, actor=world.coordinator, accept=False)
    with pytest.raises(discrepancies.DiscrepancyInvalid):
        discrepancies.resolve(found, actor=world.coordinator, accept=True)


def test_another_teams_coordinator_cannot_see_it(client, db, make, world):
    _, _, found = discrepancy_for(make, world)
    db.session.commit()
    client.submit("/login", {"email": world.other_coordinator.email,
                             "password": "correct horse battery"})

    assert client.get(f"/hub/discrepancies/{found.id}").status_code == 404
    assert str(found.referral.reference) not in client.get("/hub/discrepancies").get_data(
        as_text=True)


def test_the_workspace_tells_the_connector_to_check_who_they_speak_to(client, db, make, world,
                                                                    page):
    _, referral, found = discrepancy_for(make, world)
    referral.connector = world.connector
    db.session.commit()
    client.submit("/login", {"email": world.connector.email,
                             "password": "correct horse battery"})

    workspace = page(client.get(f"/caseload/referrals/{referral.id}"))

    assert "Details to check" in workspace.text()
    assert "Beta Surgery referred this person" in workspace.text()
    assert f"/hub/discrepancies/{found.id}" not in workspace.html  # a coordinator decides


def test_an_ethnic_group_sent_differently_is_shown_in_words(db, make, world):
    patient = known_person(make, world)
    intake = make.intake(world.beta, person={"nhs_number": patient.nhs_number, **STORED,
                                             "ethnic_category": "N"})
    create_referral(intake, actor=world.beta_referrer)
    [found] = db.session.scalars(select(PatientDiscrepancy)).all()
    assert discrepancies.rows(found) == [("Ethnic group", "Not asked",
                                          "Black, Black British, Caribbean or African: African")]
    assert db.session.get(Patient, patient.id).ethnic_category == "99"  # until a coordinator says

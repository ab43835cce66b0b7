"""The intake service: the one way a referral enters Kindly, tested against a real database."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from referrals import workflow
from referrals.errors import DuplicateOpenReferral, IntakeInvalid
from referrals.intake import service
from referrals.intake.service import (
    ConsentRecord,
    ReasonEntry,
    birth_date_error,
    check,
    create_referral,
)
from referrals.models import (
    AuditEvent,
    CommunicationNeed,
    ConsentGivenBy,
    ConsentMethod,
    ContactMethod,
    Patient,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Role,
    Urgency,
)

S = ReferralStatus
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def practice(make):
    return make.practice()


@pytest.fixture
def referrer(make, practice):
    return make.user(Role.REFERRER, practice=practice)


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def spaced(number: str) -> str:
    return f"{number[:3]} {number[3:6]} {number[6:]}"


# --- creating a referral ---------------------------------------------------------


def test_a_new_person_is_created_from_the_referral(db, make, practice, referrer):
    number = make.nhs_number()
    intake = make.intake(practice, person={
        "nhs_number": spaced(number), "given_name": "  Ann ", "family_name": "Bee",
        "postcode": "kb1 1ab", "preferred_contact": ContactMethod.TEXT,
        "communication_needs": ["large-print"],
    })

    referral = create_referral(intake, actor=referrer, now=NOW)

    patient = db.session.scalars(select(Patient).where(Patient.nhs_number == number)).one()
    assert referral.patient is patient
    assert (patient.given_name, patient.family_name) == ("Ann", "Bee")
    assert patient.postcode == "KB1 1AB"
    assert patient.birth_date == date(1950, 3, 31)
    assert patient.preferred_contact is ContactMethod.TEXT
    assert patient.communication_needs == ["large-print"]
    assert patient.practice is practice


def test_a_known_person_is_found_by_nhs_number_and_updated_not_duplicated(db, make, practice,
                                                                          referrer):
    # By their own practice; another practice's details wait for a coordinator
    # (test_discrepancy.py).
    first = make.referral(practice, status=S.COMPLETED)
    number = first.patient.nhs_number
    intake = make.intake(practice, person={
        "nhs_number": spaced(number), "family_name": "Byron", "postcode": "LS6 2UE",
        "phone": "07700 900999",
    })

    second = create_referral(intake, actor=referrer, now=NOW)

    assert second.patient is first.patient
    assert count(db, Patient, Patient.nhs_number == number) == 1
    db.session.expire_all()
    patient = db.session.get(Patient, second.patient_id)
    assert patient.family_name == "Byron"
    assert patient.postcode == "LS6 2UE"
    assert patient.phone == "07700 900999"
    assert patient.practice_id == practice.id
    assert count(db, Referral, Referral.patient_id == patient.id) == 2


@pytest.mark.parametrize("open_status", [S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS])
def test_a_second_open_referral_for_the_same_person_is_refused_pointing_at_the_first(
    db, make, practice, referrer, open_status
):
    first = make.referral(practice, status=open_status)
    number = first.patient.nhs_number
    intake = make.intake(practice, person={"nhs_number": number, "family_name": "Changed"})

    with pytest.raises(DuplicateOpenReferral) as caught:
        create_referral(intake, actor=referrer, now=NOW)

    assert caught.value.existing is first
    assert first.reference in str(caught.value)
    assert count(db, Referral, Referral.patient_id == first.patient_id) == 1
    db.session.expire_all()
    assert db.session.get(Patient, first.patient_id).family_name == "Lovelace"


@pytest.mark.parametrize("closed_status", [S.COMPLETED, S.DECLINED, S.UNABLE_TO_CONTACT,
                                           S.REJECTED, S.CANCELLED])
def test_once_the_earlier_referral_is_closed_a_new_one_is_allowed(db, make, practice, referrer,
                                                                  closed_status):
    first = make.referral(practice, status=closed_status)
    intake = make.intake(practice, person={"nhs_number": first.patient.nhs_number})

    second = create_referral(intake, actor=referrer, now=NOW)

    assert second.id != first.id
    assert second.patient_id == first.patient_id
    assert second.status is S.RECEIVED


def test_cancelling_the_open_referral_lets_the_person_be_referred_again(make, practice,
                                                                        referrer):
    first = create_referral(make.intake(practice), actor=referrer, now=NOW)
    again = make.intake(practice, person={"nhs_number": first.patient.nhs_number})
    with pytest.raises(DuplicateOpenReferral):
        create_referral(again, actor=referrer, now=NOW)

    workflow.transition(first, S.CANCELLED, actor=referrer, reason="Sent in error")
    second = create_referral(again, actor=referrer, now=NOW)

    assert second.patient is first.patient
    assert second.status is S.RECEIVED


def test_the_reference_is_knd_year_and_six_digits_from_the_id(make, practice, referrer):
    referral = create_referral(make.intake(practice), actor=referrer, now=NOW)
    assert re.fullmatch(r"KND-\d{4}-\d{6}", referral.reference)
    assert referral.reference == f"KND-2026-{referral.id:06d}"


def test_a_new_referral_is_received_with_exactly_one_creation_event(db, make, practice,
                                                                    referrer):
    referral = create_referral(make.intake(practice), actor=referrer, now=NOW)

    assert referral.status is S.RECEIVED
    events = db.session.scalars(
        select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
    ).all()
    assert len(events) == 1
    (event,) = events
    assert event.from_status is None
    assert event.to_status is S.RECEIVED
    assert event.actor_id == referrer.id
    assert event.at == NOW


def test_the_referral_goes_to_the_practices_connector_team(make, practice, referrer):
    referral = create_referral(make.intake(practice), actor=referrer, now=NOW)
    assert referral.team_id is not None
    assert referral.team_id == practice.team_id
    assert referral.practice is practice
    assert referral.referrer is referrer
    assert referral.connector is None


def test_creating_a_referral_writes_an_audit_event(db, make, practice, referrer):
    referral = create_referral(make.intake(practice, source="fhir"), actor=referrer, now=NOW)

    audits = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "referral", AuditEvent.entity_id == referral.id
        )
    ).all()
    assert len(audits) == 1
    (audit,) = audits
    assert audit.action == "create"
    assert audit.actor_id == referrer.id
    assert audit.patient_id == referral.patient_id
    assert audit.detail == {"source": "fhir", "reference": referral.reference}


def test_the_referral_keeps_what_was_said_about_it(make, practice, referrer):
    consent_at = NOW - timedelta(days=1)
    intake = make.intake(
        practice,
        reasons=[ReasonEntry("bereavement"), ReasonEntry("other", "  Lost their dog  "),
                 ReasonEntry("bereavement")],
        risks=["  Lives alone ", " "],
        no_known_risks=False,
        urgency=Urgency.URGENT,
        what_matters="  Gardening  ",
        consent=ConsentRecord(given=True, given_by=ConsentGivenBy.REPRESENTATIVE,
                              method=ConsentMethod.VERBAL_PHONE, at=consent_at),
    )
    referral = create_referral(intake, actor=referrer, now=NOW)

    assert [(r.code, r.detail) for r in referral.reasons] == [
        ("bereavement", ""), ("other", "Lost their dog")]
    assert referral.risks == ["Lives alone"]
    assert referral.no_known_risks is False
    assert referral.urgency is Urgency.URGENT
    assert referral.what_matters == "Gardening"
    assert referral.consent_given_by is ConsentGivenBy.REPRESENTATIVE
    assert referral.consent_method is ConsentMethod.VERBAL_PHONE
    assert referral.consent_at == consent_at


def test_a_concurrent_duplicate_caught_by_the_database_is_reported_as_a_duplicate(
    db, make, practice, referrer, monkeypatch
):
    # Two clerks submit at once: both pass the service's check, and the unique index
    # refuses the second insert. The service must still answer DuplicateOpenReferral.
    first = make.referral(practice)
    real = service.find_open_referral
    calls = []

    def missed_the_first_time(patient):
        calls.append(patient)
        return None if len(calls) == 1 else real(patient)

    monkeypatch.setattr(service, "find_open_referral", missed_the_first_time)
    intake = make.intake(practice, person={"nhs_number": first.patient.nhs_number})

    with pytest.raises(DuplicateOpenReferral) as caught:
        create_referral(intake, actor=referrer, now=NOW)

    assert caught.value.existing.id == first.id
    # The caller's transaction is still usable.
    assert count(db, Referral, Referral.patient_id == first.patient_id) == 1


# --- the database refuses a second open referral on its own -------------------------


def _direct_referral(patient, practice, status=S.RECEIVED) -> Referral:
    return Referral(
        patient=patient, practice=practice, team_id=practice.team_id, status=status,
        consent_given_by=ConsentGivenBy.PERSON, consent_method=ConsentMethod.WRITTEN,
        consent_at=NOW,
    )


@pytest.mark.parametrize("second_status", [S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS])
def test_the_database_refuses_a_second_open_referral_when_the_service_is_bypassed(
    db, make, practice, second_status
):
    first = make.referral(practice)

    # A savepoint, so the test's own transaction survives the refusal.
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(_direct_referral(first.patient, practice, second_status))
        db.session.flush()

    assert count(db, Referral, Referral.patient_id == first.patient_id) == 1


def test_the_database_allows_closed_referrals_alongside_the_open_one(db, make, practice):
    first = make.referral(practice)
    with db.session.begin_nested():
        for status in (S.COMPLETED, S.CANCELLED, S.REJECTED):
            db.session.add(_direct_referral(first.patient, practice, status))
        db.session.flush()
    assert count(db, Referral, Referral.patient_id == first.patient_id) == 4


# --- the intake rules --------------------------------------------------------------


def _fails(make, practice, referrer, **overrides) -> dict[str, str]:
    """Run create_referral on an otherwise valid intake; return IntakeInvalid's errors."""
    with pytest.raises(IntakeInvalid) as caught:
        create_referral(make.intake(practice, **overrides), actor=referrer, now=NOW)
    return caught.value.errors


def test_the_builders_intake_is_valid(make, practice):
    # The rule tests below change one thing each; this proves nothing else is wrong.
    assert check(make.intake(practice), TODAY) == {}


RULES = [
    pytest.param({"reasons": []}, "reasons", "Select at least one reason for referral",
                 id="no-reasons"),
    pytest.param({"reasons": [ReasonEntry("loneliness"), ReasonEntry("astrology")]}, "reasons",
                 "Unknown reason for referral: astrology", id="unknown-reason"),
    pytest.param({"reasons": [ReasonEntry("other", "  ")]}, "reason_other",
                 "Describe the other reason for referral", id="other-without-detail"),
    pytest.param({"risks": ["Lives alone"], "no_known_risks": True}, "risks",
                 "Either list the known risks or tick 'No known risks', not both",
                 id="risks-and-no-known-risks"),
    pytest.param({"risks": [], "no_known_risks": False}, "risks",
                 "List any known risks, or tick 'No known risks'", id="neither-risks-nor-none"),
    pytest.param({"risks": ["  "], "no_known_risks": False}, "risks",
                 "List any known risks, or tick 'No known risks'", id="blank-risk-is-no-risk"),
    pytest.param({"consent": None}, "consent",
                 "The person must agree to the referral before you can send it",
                 id="consent-missing"),
    pytest.param({"consent": ConsentRecord(given=False)}, "consent",
                 "The person must agree to the referral before you can send it",
                 id="consent-refused"),
    pytest.param({"person": {"birth_date": TODAY + timedelta(days=1)}}, "birth_date",
                 "Date of birth must be in the past", id="born-in-the-future"),
    pytest.param({"person": {"birth_date": TODAY}}, "birth_date",
                 "Date of birth must be in the past", id="born-today"),
    pytest.param({"person": {"birth_date": date(1906, 3, 1)}}, "birth_date",
                 "Date of birth must be within the last 120 years", id="over-120"),
    pytest.param({"person": {"birth_date": None}}, "birth_date",
                 "Enter the person's date of birth", id="no-birth-date"),
    pytest.param({"person": {"postcode": "LS1"}}, "postcode",
                 "Enter a real UK postcode, like LS1 4AP", id="bad-postcode"),
    pytest.param({"person": {"postcode": ""}}, "postcode",
                 "Enter a real UK postcode, like LS1 4AP", id="no-postcode"),
    pytest.param({"person": {"preferred_contact": ContactMethod.PHONE, "phone": ""}}, "phone",
                 "Enter a phone number, or choose another way to contact them",
                 id="phone-without-phone"),
    pytest.param({"person": {"preferred_contact": ContactMethod.TEXT, "phone": ""}}, "phone",
                 "Enter a phone number, or choose another way to contact them",
                 id="text-without-phone"),
    pytest.param({"person": {"preferred_contact": ContactMethod.PHONE, "phone": "   "}}, "phone",
                 "Enter a phone number, or choose another way to contact them",
                 id="phone-that-is-only-spaces"),
    pytest.param({"person": {"preferred_contact": ContactMethod.EMAIL, "email": ""}}, "email",
                 "Enter an email address, or choose another way to contact them",
                 id="email-without-email"),
    pytest.param({"person": {"preferred_contact": ContactMethod.EMAIL, "email": "  "}}, "email",
                 "Enter an email address, or choose another way to contact them",
                 id="email-that-is-only-spaces"),
    pytest.param({"person": {"preferred_contact": "email", "email": ""}}, "email",
                 "Enter an email address, or choose another way to contact them",
                 id="email-given-as-a-plain-string"),
    pytest.param({"person": {"communication_needs": ["spoken-interpreter"],
                             "interpreter_language": " "}}, "interpreter_language",
                 "Enter the language the person needs an interpreter for",
                 id="interpreter-without-language"),
    pytest.param({"person": {"communication_needs": ["telepathy"]}}, "communication_needs",
                 "Unknown communication need: telepathy", id="unknown-communication-need"),
    pytest.param({"person": {"nhs_number": "9990000017"}}, "nhs_number",
                 "This is not a valid NHS number: its check digit does not match. "
                 "Check each digit and enter it again", id="bad-nhs-number"),
    pytest.param({"person": {"nhs_number": ""}}, "nhs_number",
                 "Enter the person's NHS number", id="no-nhs-number"),
    pytest.param({"person": {"given_name": "  "}}, "given_name",
                 "Enter the person's given name", id="no-given-name"),
    pytest.param({"person": {"family_name": ""}}, "family_name",
                 "Enter the person's family name", id="no-family-name"),
    pytest.param({"person": {"sex": None}}, "sex", "Select the person's sex", id="no-sex"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), RULES)
def test_each_intake_rule_is_reported_against_its_form_field(db, make, practice, referrer,
                                                             overrides, field, message):
    before = count(db, Referral)
    errors = _fails(make, practice, referrer, **overrides)
    assert errors == {field: message}
    assert count(db, Referral) == before


def test_a_practice_with_no_connector_team_cannot_refer(db, make, practice, referrer):
    practice.team = None
    db.session.flush()
    errors = _fails(make, practice, referrer)
    assert set(errors) == {"practice"}
    assert practice.name in errors["practice"]


def test_every_broken_rule_is_reported_at_once(make, practice, referrer):
    errors = _fails(make, practice, referrer, reasons=[], consent=None,
                    person={"postcode": "nowhere", "birth_date": None})
    assert set(errors) == {"reasons", "consent", "postcode", "birth_date"}


def test_an_interpreter_language_is_kept_only_with_an_interpreter_need(make, practice, referrer):
    with_need = create_referral(make.intake(practice, person={
        "communication_needs": [CommunicationNeed.SPOKEN_INTERPRETER.value],
        "interpreter_language": " Polish "}), actor=referrer, now=NOW)
    without = create_referral(make.intake(practice, person={"interpreter_language": "Polish"}),
                              actor=referrer, now=NOW)
    assert with_need.patient.interpreter_language == "Polish"
    assert without.patient.interpreter_language == ""


@pytest.mark.parametrize(
    ("birth_date", "today", "ok"),
    [
        (date(1906, 3, 2), date(2026, 3, 2), True),  # exactly 120 years
        (date(1906, 3, 1), date(2026, 3, 2), False),  # a day more
        (date(2026, 3, 1), date(2026, 3, 2), True),  # born yesterday
        # 29 Feb 2020 minus 120 years has no 29 Feb (1900 was not a leap year): 28 Feb.
        (date(1900, 2, 28), date(2020, 2, 29), True),
        (date(1900, 2, 27), date(2020, 2, 29), False),
        (date(1904, 2, 29), date(2024, 2, 29), True),  # 1904 had one
    ],
)
def test_birth_dates_are_accepted_up_to_exactly_120_years_ago(birth_date, today, ok):
    assert (birth_date_error(birth_date, today) is None) is ok

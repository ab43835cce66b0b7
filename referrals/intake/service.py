"""The intake service: the one way a referral enters Kindly.

The practice form, the FHIR API and self-referral all build an IntakeRequest
and call create_referral(). It never touches the request; it flushes and the
caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referrals import audit, ethnicity, reasons, revisions, routing, workflow
from referrals.errors import DuplicateOpenReferral, IntakeInvalid, InvalidNhsNumber
from referrals.extensions import db
from referrals.intake import discrepancy, limits
from referrals.models import (
    OPEN_STATUSES,
    ApiClient,
    CommunicationNeed,
    ConsentGivenBy,
    ConsentMethod,
    ContactMethod,
    Patient,
    Practice,
    Referral,
    ReferralReason,
    ReferralStatus,
    Sex,
    Urgency,
    User,
    utcnow,
)
from referrals.nhs_number import normalise
from referrals.postcode import normalise_postcode

MAX_AGE_YEARS = 120
# UK Core NHS number verification statuses (England).
NHS_NUMBER_STATUSES = frozenset(f"0{n}" for n in range(1, 9))
# The source of a referral a person made themselves, through the public directory.
SELF_REFERRAL = "self"
# Where a referral may arrive without saying what the risks to visitors are: a person
# referring themselves is not asked, and a GP system speaking plain UK Core has no
# element for them (Kindly's risk extensions are its own). The referral's risks are then
# "not stated" (Referral.risks_stated) until a connector records them. The practice's
# own form always asks.
RISKS_MAY_BE_UNSTATED = frozenset({SELF_REFERRAL, "fhir"})


@dataclass
class PersonDetails:
    nhs_number: str
    given_name: str
    family_name: str
    birth_date: date | None
    sex: Sex | None
    postcode: str
    phone: str = ""
    email: str = ""
    preferred_contact: ContactMethod | None = None
    communication_needs: list[str] = field(default_factory=list)
    interpreter_language: str = ""
    # From GP systems: UK Core NHS number verification status.
    nhs_number_status: str = ""
    # referrals.ethnicity: a code A-S or Z; blank when not answered, which never
    # replaces an answer already stored.
    ethnic_category: str = ""


@dataclass
class ReasonEntry:
    code: str
    detail: str = ""


@dataclass
class ConsentRecord:
    given: bool
    given_by: ConsentGivenBy = ConsentGivenBy.PERSON
    method: ConsentMethod = ConsentMethod.VERBAL_IN_PERSON
    at: datetime | None = None


@dataclass
class IntakeRequest:
    person: PersonDetails
    reasons: list[ReasonEntry]
    practice: Practice
    consent: ConsentRecord | None
    what_matters: str = ""
    risks: list[str] = field(default_factory=list)
    no_known_risks: bool = False
    urgency: Urgency = Urgency.ROUTINE
    source: str = "form"
    # A GP system names its clinician (who has no account here) and itself.
    referrer_name: str = ""
    referrer_identifier: str = ""
    api_client: ApiClient | None = None
    # Kept in the "create" audit event; the public site puts a keyed hash of the
    # client address here so it can count self-referrals per client (directory.ratelimit).
    origin: str = ""

    @property
    def is_self_referral(self) -> bool:
        return self.source == SELF_REFERRAL


def birth_date_error(birth_date: date | None, today: date) -> str | None:
    if birth_date is None:
        return "Enter the person's date of birth"
    if birth_date >= today:
        return "Date of birth must be in the past"
    try:
        earliest = today.replace(year=today.year - MAX_AGE_YEARS)
    except ValueError:  # 29 February
        earliest = today.replace(year=today.year - MAX_AGE_YEARS, day=28)
    if birth_date < earliest:
        return f"Date of birth must be within the last {MAX_AGE_YEARS} years"
    return None


def length_errors(intake: IntakeRequest) -> dict[str, str]:
    """The fields longer than limits.MAX_LENGTHS allows, measured as they would be stored."""
    person = intake.person
    others = [r.detail.strip() for r in intake.reasons if r.code == reasons.OTHER.code]
    return limits.too_long({
        "given_name": person.given_name,
        "family_name": person.family_name,
        "postcode": person.postcode,
        "phone": person.phone,
        "email": person.email,
        "interpreter_language": person.interpreter_language,
        "reason_other": max(others, key=len, default=""),
        "what_matters": intake.what_matters,
        "risks": "\n".join(r.strip() for r in intake.risks if r.strip()),
        "referrer_name": intake.referrer_name,
        "referrer_identifier": intake.referrer_identifier,
    })


def check(intake: IntakeRequest, today: date) -> dict[str, str]:
    """Every intake rule the request breaks, by form field name. Empty when valid."""
    errors: dict[str, str] = length_errors(intake)
    person = intake.person
    # People referring themselves may not know their NHS number.
    if person.nhs_number.strip() or not intake.is_self_referral:
        try:
            normalise(person.nhs_number)
        except InvalidNhsNumber as exc:
            errors["nhs_number"] = str(exc)
    if not person.given_name.strip():
        errors["given_name"] = "Enter the person's given name"
    if not person.family_name.strip():
        errors["family_name"] = "Enter the person's family name"
    if message := birth_date_error(person.birth_date, today):
        errors["birth_date"] = message
    if person.sex is None:
        errors["sex"] = "Select the person's sex"
    if normalise_postcode(person.postcode) is None:
        errors["postcode"] = "Enter a real UK postcode, like LS1 4AP"
    # Blank means missing: the details are stored stripped.
    if (
        person.preferred_contact in (ContactMethod.PHONE, ContactMethod.TEXT)
        and not person.phone.strip()
    ):
        errors["phone"] = "Enter a phone number, or choose another way to contact them"
    if person.preferred_contact == ContactMethod.EMAIL and not person.email.strip():
        errors["email"] = "Enter an email address, or choose another way to contact them"
    known = {need.value for need in CommunicationNeed}
    unknown = [c for c in person.communication_needs if c not in known]
    if unknown:
        errors["communication_needs"] = f"Unknown communication need: {', '.join(unknown)}"
    elif (
        CommunicationNeed.SPOKEN_INTERPRETER in person.communication_needs
        and not person.interpreter_language.strip()
    ):
        errors["interpreter_language"] = "Enter the language the person needs an interpreter for"
    if person.nhs_number_status and person.nhs_number_status not in NHS_NUMBER_STATUSES:
        errors["nhs_number_status"] = (
            f"Unknown NHS number verification status {person.nhs_number_status!r}"
        )
    if message := ethnicity.error(person.ethnic_category):
        errors["ethnic_category"] = message
    if not intake.reasons:
        errors["reasons"] = "Select at least one reason for referral"
    elif unknown_reasons := [r.code for r in intake.reasons if r.code not in reasons.BY_CODE]:
        errors["reasons"] = f"Unknown reason for referral: {', '.join(unknown_reasons)}"
    elif any(r.code == reasons.OTHER.code and not r.detail.strip() for r in intake.reasons):
        errors["reason_other"] = "Describe the other reason for referral"
    required = intake.source not in RISKS_MAY_BE_UNSTATED
    if message := risks_error(intake.risks, intake.no_known_risks, required=required):
        errors["risks"] = message
    if intake.consent is None or not intake.consent.given:
        errors["consent"] = "The person must agree to the referral before you can send it"
    if intake.practice.team_id is None:
        errors["practice"] = (
            f"{intake.practice.name} is not linked to a connector team yet. "
            "Ask the hub coordinator to set one up."
        )
    return errors


def risks_error(risks: list[str], no_known_risks: bool, *, required: bool) -> str | None:
    """What is wrong with this statement of the risks to visitors, if anything."""
    listed = [r for r in risks if r.strip()]
    if listed and no_known_risks:
        return "Either list the known risks or tick 'No known risks', not both"
    if not listed and not no_known_risks and required:
        return "List any known risks, or tick 'No known risks'"
    return None


def find_open_referral(patient: Patient) -> Referral | None:
    return db.session.scalars(
        select(Referral).where(
            Referral.patient_id == patient.id, Referral.status.in_(OPEN_STATUSES)
        )
    ).first()


def create_referral(
    intake: IntakeRequest,
    *,
    actor: User | None,
    actor_label: str = "",
    now: datetime | None = None,
) -> Referral:
    """Validate and store a new referral as `received`, with its first event and audit.

    Finds the person by NHS number (creating them, or updating them when the same
    practice refers them; another practice's details are kept aside for a coordinator,
    referrals.intake.discrepancy), refuses a second
    open referral for the same person (DuplicateOpenReferral, carrying the open
    one), and routes the referral to the practice's team and, when someone has
    room, a connector (referrals.routing). Raises IntakeInvalid
    listing every broken rule. Flushes; the caller commits.
    """
    now = now or utcnow()
    errors = check(intake, now.date())
    if errors:
        raise IntakeInvalid(errors)

    nhs_number = normalise(intake.person.nhs_number) if intake.person.nhs_number.strip() else None
    patient = None
    if nhs_number is not None:
        patient = db.session.scalars(
            select(Patient).where(Patient.nhs_number == nhs_number)).first()
    if patient is not None and intake.is_self_referral and not _same_person(patient, intake):
        # Anyone can type an NHS number on the public site: never attach a stranger's
        # details to a record, nor say whether the number is known. The connector
        # checks the number with the person.
        nhs_number, patient = None, None
        _note_unmatched_nhs_number(intake)
    if patient is not None and (existing := find_open_referral(patient)) is not None:
        raise DuplicateOpenReferral(existing)

    try:
        # A savepoint, so a concurrent duplicate caught by the unique index
        # leaves the caller's transaction usable.
        with db.session.begin_nested():
            check_details = patient is not None and discrepancy.needs_check(
                patient, intake.practice, self_referral=intake.is_self_referral)
            if not check_details:
                patient = _upsert_patient(patient, nhs_number, intake, now)
            referral = _new_referral(patient, intake, actor, now)
            db.session.flush()
            if check_details:
                # Another practice's person: their details stay until a coordinator decides.
                discrepancy.record(patient, referral, intake.person, now=now)
    except IntegrityError:
        if nhs_number is None:
            raise  # nobody else can have stored a person without an NHS number
        # Someone else stored this person or their open referral first.
        patient = db.session.scalars(
            select(Patient).where(Patient.nhs_number == nhs_number)
        ).first()
        existing = find_open_referral(patient) if patient is not None else None
        if existing is None:
            raise
        raise DuplicateOpenReferral(existing) from None

    revisions.mark_locked(referral)  # new: nobody else can see it until this commits
    referral.reference = f"KND-{now.year}-{referral.id:06d}"
    workflow.record_creation(referral, actor=actor, actor_label=actor_label, now=now)
    routing.route(referral, now=now)
    audit.record(
        "create",
        actor=actor,
        actor_label=actor_label,
        entity_type="referral",
        entity_id=referral.id,
        patient_id=patient.id,
        detail={"source": intake.source, "reference": referral.reference,
                **({"origin": intake.origin} if intake.origin else {}),
                **({"details_to_check": True} if check_details else {})},
        origin=intake.origin or None,
    )
    db.session.flush()
    return referral


def cancel_referral(
    referral: Referral,
    *,
    actor: User | None,
    reason: str,
    actor_label: str = "",
    expected_version: int | None = None,
    via: str = "web",
    now: datetime | None = None,
) -> None:
    """The referrer withdraws a referral the hub has not accepted yet, with a reason.

    `expected_version` is the version the practice (a page, or a GP system's If-Match)
    saw: StaleReferral if the referral has moved on since. IllegalTransition once the
    hub has accepted it; ReasonRequired without a reason. Flushes; the caller commits.
    """
    revisions.begin(referral, expected_version)
    workflow.transition(referral, ReferralStatus.CANCELLED, actor=actor,
                        actor_label=actor_label, reason=reason, now=now)
    audit.record("cancel", actor=actor, actor_label=actor_label, entity_type="referral",
                 entity_id=referral.id, patient_id=referral.patient_id,
                 detail={"via": via} if via != "web" else None)
    db.session.flush()


def _same_person(patient: Patient, intake: IntakeRequest) -> bool:
    """Do the name and date of birth given match the person stored under the NHS number?"""
    person = intake.person
    return (
        patient.given_name.casefold() == person.given_name.strip().casefold()
        and patient.family_name.casefold() == person.family_name.strip().casefold()
        and patient.birth_date == person.birth_date
    )


def _note_unmatched_nhs_number(intake: IntakeRequest) -> None:
    for entry in intake.reasons:
        if entry.code == reasons.OTHER.code:
            entry.detail = f"{entry.detail.strip()} (the NHS number given did not match; check it)"


def _upsert_patient(
    patient: Patient | None, nhs_number: str | None, intake: IntakeRequest, now: datetime
) -> Patient:
    person = intake.person
    known = patient is not None
    if patient is None:
        patient = Patient(nhs_number=nhs_number, created_at=now)
        db.session.add(patient)
    patient.given_name = person.given_name.strip()
    patient.family_name = person.family_name.strip()
    patient.birth_date = person.birth_date
    # The public form asks neither sex nor communication needs: keep what a practice recorded.
    keep_recorded = known and intake.is_self_referral
    if not keep_recorded:
        patient.sex = person.sex
    patient.postcode = normalise_postcode(person.postcode)
    patient.phone = person.phone.strip()
    patient.email = person.email.strip()
    patient.preferred_contact = person.preferred_contact
    if not keep_recorded:
        patient.communication_needs = list(dict.fromkeys(person.communication_needs))
        patient.interpreter_language = (
            person.interpreter_language.strip()
            if CommunicationNeed.SPOKEN_INTERPRETER in person.communication_needs
            else ""
        )
    if person.nhs_number_status:
        patient.nhs_number_status = person.nhs_number_status
    if person.ethnic_category:
        patient.ethnic_category = person.ethnic_category
    patient.practice = intake.practice
    patient.updated_at = now
    return patient


def _new_referral(
    patient: Patient, intake: IntakeRequest, actor: User | None, now: datetime
) -> Referral:
    consent = intake.consent
    referral = Referral(
        patient=patient,
        practice=intake.practice,
        referrer=actor,
        team_id=intake.practice.team_id,
        what_matters=intake.what_matters.strip(),
        risks=[] if intake.no_known_risks else [r.strip() for r in intake.risks if r.strip()],
        no_known_risks=intake.no_known_risks,
        urgency=intake.urgency,
        consent_given_by=consent.given_by,
        consent_method=consent.method,
        consent_at=consent.at or now,
        status=ReferralStatus.RECEIVED,
        source=intake.source,
        referrer_name=intake.referrer_name.strip(),
        referrer_identifier=intake.referrer_identifier.strip(),
        api_client=intake.api_client,
        created_at=now,
        updated_at=now,
    )
    seen = set()
    for entry in intake.reasons:
        if entry.code in seen:
            continue
        seen.add(entry.code)
        detail = entry.detail.strip() if entry.code == reasons.OTHER.code else ""
        referral.reasons.append(ReferralReason(code=entry.code, detail=detail))
    db.session.add(referral)
    return referral

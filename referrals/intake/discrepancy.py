"""Details another practice sent for a person Kindly already holds.

An NHS number alone is not enough to change who someone is: the other practice may
have their new phone number, or may have typed one digit wrong. So when a GP
practice (form or FHIR) refers a person whom Kindly holds for another practice, the
stored details stay as they are, and what differs is kept as a PatientDiscrepancy for
a coordinator of the team to resolve: keep the stored details, or accept the ones
sent, which also moves the person to the sending practice. Until then the connector's
workspace shows the difference.

The same practice keeps updating its own patient's details (it knows them), and a
person who refers themselves is trusted on their own contact details once their name
and date of birth match (intake.service._same_person).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload, with_expression

from referrals import access, audit, ethnicity
from referrals.access import Action
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import (
    CommunicationNeed,
    ContactMethod,
    Patient,
    PatientDiscrepancy,
    Practice,
    Referral,
    Resolution,
    Sex,
    User,
    utcnow,
)
from referrals.postcode import normalise_postcode

# The person's details a referral carries, in the order the comparison shows them.
FIELDS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "birth_date": "Date of birth",
    "sex": "Sex",
    "postcode": "Postcode",
    "phone": "Phone number",
    "email": "Email address",
    "preferred_contact": "Preferred contact method",
    "communication_needs": "Communication needs",
    "interpreter_language": "Interpreter language",
    "nhs_number_status": "NHS number verification status",
    "ethnic_category": "Ethnic group",
}
# Sent only by some GP systems: not sending them is not a difference.
ONLY_WHEN_SENT = frozenset({"nhs_number_status", "ethnic_category"})


class DiscrepancyInvalid(DomainError):
    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


def needs_check(patient: Patient, practice: Practice, *, self_referral: bool) -> bool:
    """Does a referral from `practice` for the stored `patient` need a coordinator's check
    instead of updating them?"""
    return (not self_referral and patient.practice_id is not None
            and patient.practice_id != practice.id)


def details_sent(person) -> dict:
    """The details of an intake's PersonDetails as they would be stored (JSON-ready)."""
    needs = list(dict.fromkeys(person.communication_needs))
    return {
        "given_name": person.given_name.strip(),
        "family_name": person.family_name.strip(),
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "sex": person.sex.value if person.sex else None,
        "postcode": normalise_postcode(person.postcode),
        "phone": person.phone.strip(),
        "email": person.email.strip(),
        "preferred_contact": person.preferred_contact.value if person.preferred_contact else None,
        "communication_needs": needs,
        "interpreter_language": person.interpreter_language.strip()
        if CommunicationNeed.SPOKEN_INTERPRETER in needs else "",
        "nhs_number_status": person.nhs_number_status,
        "ethnic_category": person.ethnic_category,
    }


def details_stored(patient: Patient) -> dict:
    return {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "sex": patient.sex.value if patient.sex else None,
        "postcode": patient.postcode,
        "phone": patient.phone,
        "email": patient.email,
        "preferred_contact": patient.preferred_contact.value if patient.preferred_contact
        else None,
        "communication_needs": list(patient.communication_needs or []),
        "interpreter_language": patient.interpreter_language,
        "nhs_number_status": patient.nhs_number_status,
        "ethnic_category": patient.ethnic_category,
    }


def record(patient: Patient, referral: Referral, person, *, now: datetime
           ) -> PatientDiscrepancy:
    """Keep what `person` (the intake's PersonDetails) says differently from the stored
    patient, for the referral that brought it. The patient is not changed. A move of
    practice alone is a difference too."""
    sent, stored = details_sent(person), details_stored(patient)
    differs = [name for name in FIELDS if sent[name] != stored[name]
               and not (name in ONLY_WHEN_SENT and not sent[name])]
    discrepancy = PatientDiscrepancy(
        patient=patient, referral=referral, source_practice=referral.practice,
        stored_practice_id=patient.practice_id,
        sent={name: sent[name] for name in differs},
        stored={name: stored[name] for name in differs},
        created_at=now,
    )
    db.session.add(discrepancy)
    db.session.flush()
    return discrepancy


def rows(discrepancy: PatientDiscrepancy) -> list[tuple[str, str, str]]:
    """(label, as stored, as sent) for each detail that differs, for the pages."""
    return [(label, _shown(name, discrepancy.stored.get(name)),
             _shown(name, discrepancy.sent.get(name)))
            for name, label in FIELDS.items() if name in discrepancy.sent]


def _shown(name: str, value) -> str:
    if value in (None, "", []):
        return "Not given"
    if name == "birth_date":
        return date.fromisoformat(value).strftime("%-d %b %Y")
    if name == "sex":
        return Sex(value).label
    if name == "preferred_contact":
        return ContactMethod(value).label
    if name == "communication_needs":
        return ", ".join(CommunicationNeed(code).label for code in value)
    if name == "ethnic_category":
        return ethnicity.describe(value)
    return str(value)


def any_open():
    """A loader option: whether the referral has a discrepancy waiting, read within the
    referral's own SELECT (Referral.has_open_discrepancy), so a page with none needs no
    query of its own."""
    return with_expression(Referral.has_open_discrepancy, exists().where(
        PatientDiscrepancy.referral_id == Referral.id,
        PatientDiscrepancy.resolved_at.is_(None)))


def open_for(referral: Referral) -> list[PatientDiscrepancy]:
    """The referral's discrepancies still waiting for a coordinator (none, without a query,
    when the referral was loaded with any_open and has none)."""
    if referral.has_open_discrepancy is False:
        return []
    return list(db.session.scalars(
        select(PatientDiscrepancy)
        .where(PatientDiscrepancy.referral_id == referral.id,
               PatientDiscrepancy.resolved_at.is_(None))
        .options(selectinload(PatientDiscrepancy.source_practice),
                 selectinload(PatientDiscrepancy.stored_practice))
        .order_by(PatientDiscrepancy.id)))


def visible_to(user: User, *, open_only: bool = True, limit: int = 200
               ) -> list[PatientDiscrepancy]:
    """Discrepancies on referrals `user` may see (a coordinator: their team's), open
    ones oldest first."""
    referral_ids = access.scope(select(Referral.id), user)
    query = (select(PatientDiscrepancy)
             .where(PatientDiscrepancy.referral_id.in_(referral_ids))
             .options(selectinload(PatientDiscrepancy.source_practice),
                      selectinload(PatientDiscrepancy.stored_practice),
                      selectinload(PatientDiscrepancy.patient),
                      selectinload(PatientDiscrepancy.referral))
             .order_by(PatientDiscrepancy.created_at, PatientDiscrepancy.id)
             .limit(limit))
    if open_only:
        query = query.where(PatientDiscrepancy.resolved_at.is_(None))
    return list(db.session.scalars(query))


def resolve(discrepancy: PatientDiscrepancy, *, actor: User, accept: bool | None,
            now: datetime | None = None) -> None:
    """Settle a discrepancy: keep the stored details, or accept the ones sent (the
    person's details become those, and their practice the one that sent them).
    Audited; flushes, the caller commits."""
    referral = discrepancy.referral
    access.require(actor, Action.RESOLVE_DISCREPANCY, referral)
    if accept is None:
        raise DiscrepancyInvalid("Choose whether to keep the stored details or accept the "
                                 "new ones", "resolution")
    if not discrepancy.is_open:
        raise DiscrepancyInvalid("This has already been resolved", "resolution")
    now = now or utcnow()
    patient = discrepancy.patient
    if accept:
        for name, value in discrepancy.sent.items():
            setattr(patient, name, _stored_value(name, value))
        patient.practice_id = discrepancy.source_practice_id
        patient.updated_at = now
    discrepancy.resolution = Resolution.ACCEPTED if accept else Resolution.KEPT
    discrepancy.resolved_at = now
    discrepancy.resolved_by = actor
    audit.record("resolve-discrepancy", actor=actor, entity_type="patient",
                 entity_id=patient.id, patient_id=patient.id,
                 detail={"discrepancy_id": discrepancy.id, "referral_id": referral.id,
                         "resolution": discrepancy.resolution.value,
                         "fields": sorted(discrepancy.sent)})
    db.session.flush()


def _stored_value(name: str, value):
    if name == "birth_date":
        return date.fromisoformat(value) if value else None
    if name == "sex":
        return Sex(value) if value else None
    if name == "preferred_contact":
        return ContactMethod(value) if value else None
    if name == "communication_needs":
        return list(value or [])
    return value or ""

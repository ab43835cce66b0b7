"""referrals.sharing: every text column of a person's record has a rule, and the rules."""
from __future__ import annotations

import pytest
from sqlalchemy import JSON, Enum, String

from referrals import access, sharing
from referrals.models import Base, Contact, FollowUp, Patient, Referral, ReferralEvent, Role
from referrals.sharing import Audience, Kind, Policy


def records_of_a_person() -> list[type]:
    """Patient, and every model that hangs off it through foreign keys (referrals, their
    events, contacts, follow-ups, connections and their events, measures, letters, …)."""
    tables = {mapper.local_table: mapper.class_ for mapper in Base.registry.mappers}
    found = {Patient.__table__}
    grew = True
    while grew:
        grew = False
        for table in tables:
            if table not in found and any(fk.column.table in found for fk in table.foreign_keys):
                found.add(table)
                grew = True
    return sorted((tables[t] for t in found), key=lambda model: model.__name__)


def text_columns(model: type) -> list[str]:
    """Columns that can hold words: strings and JSON, not enums, keys or references."""
    return [column.key for column in model.__table__.columns
            if isinstance(column.type, (String, JSON)) and not isinstance(column.type, Enum)
            and not column.primary_key and not column.foreign_keys]


def test_the_walk_finds_the_records_of_a_person():
    names = {model.__name__ for model in records_of_a_person()}

    assert {"Patient", "Referral", "ReferralEvent", "Contact", "FollowUp", "Connection",
            "ConnectionEvent", "Measurement", "OutcomeLetter", "PatientDiscrepancy"} <= names


def test_every_text_column_of_a_persons_record_has_a_sharing_rule():
    unregistered = [f"{model.__name__}.{name}" for model in records_of_a_person()
                    for name in text_columns(model)
                    if (model, name) not in sharing.FREE_TEXT
                    and (model, name) not in sharing.NOT_FREE_TEXT]

    assert not unregistered, (
        f"{unregistered}: add each to referrals.sharing.FREE_TEXT (with who may read it) or "
        "NOT_FREE_TEXT (with why it holds no words about the person)")


def test_the_registers_name_only_real_columns_and_never_one_twice():
    registered = [*sharing.FREE_TEXT, *sharing.NOT_FREE_TEXT]
    stale = [f"{model.__name__}.{name}" for model, name in registered
             if name not in text_columns(model)]

    assert not stale, stale
    assert not set(sharing.FREE_TEXT) & set(sharing.NOT_FREE_TEXT)


A, K = Audience, Kind
RULES = [
    # audience, coded only, kind, shared?
    (A.HUB, True, K.ABOUT_PERSON, True),
    (A.HUB, True, K.HUB_ONLY, True),
    (A.PRACTICE, False, K.ABOUT_PERSON, True),
    (A.PRACTICE, True, K.ABOUT_PERSON, False),
    (A.PRACTICE, True, K.FOR_PRACTICE, True),
    (A.PRACTICE, True, K.IDENTITY, True),
    (A.PRACTICE, False, K.HUB_ONLY, False),
    (A.GP_SYSTEM, False, K.ABOUT_PERSON, True),
    (A.GP_SYSTEM, True, K.ABOUT_PERSON, False),
    (A.GP_SYSTEM, True, K.FOR_PRACTICE, True),
    (A.GP_SYSTEM, False, K.HUB_ONLY, False),
    (A.EMAIL, False, K.ABOUT_PERSON, False),
    (A.EMAIL, False, K.IDENTITY, False),
    (A.EMAIL, False, K.FOR_PRACTICE, False),
]


@pytest.mark.parametrize(("audience", "coded_only", "kind", "shared"), RULES)
def test_who_may_read_which_words(audience, coded_only, kind, shared):
    assert Policy(audience, coded_only=coded_only).shares(kind) is shared


def test_words_come_through_the_policy_or_not_at_all():
    referral = Referral(what_matters="  Gardening again  ", risks=["Dog", " "],
                        gp_actions="Review meds", coded_only=True)
    practice = sharing.policy(referral, Audience.PRACTICE)

    assert practice.text(referral, "what_matters") == ""
    assert practice.items(referral, "risks") == []
    assert practice.withholds(referral, "what_matters")
    assert practice.text(referral, "gp_actions") == "Review meds"
    assert practice.notice == sharing.CODED_ONLY_NOTICE
    assert sharing.HUB.text(referral, "what_matters") == "Gardening again"
    assert sharing.HUB.items(referral, "risks") == ["Dog"]
    assert sharing.EMAIL.words(FollowUp.purpose, "Talk about the bereavement") == ""
    assert sharing.HUB.words(FollowUp.purpose, "Talk about the bereavement") \
        == "Talk about the bereavement"
    assert sharing.policy(referral, Audience.HUB).notice == ""


def test_hub_only_notes_never_reach_the_practice_even_without_coded_only():
    practice = Policy(Audience.PRACTICE)

    assert practice.text(Contact(notes="Said her son drinks"), "notes") == ""
    assert practice.text(ReferralEvent(reason="Closed: moved away"), "reason") \
        == "Closed: moved away"


def test_a_column_without_a_rule_is_refused_not_shown():
    with pytest.raises(KeyError, match="not registered in referrals.sharing"):
        Policy(Audience.HUB).text(Referral(reference="KND-2026-000001"), "reference")


@pytest.mark.parametrize(("role", "audience"), [
    (Role.REFERRER, A.PRACTICE), (Role.MANAGER, A.PRACTICE), (Role.CONNECTOR, A.HUB),
    (Role.COORDINATOR, A.HUB), (Role.ADMIN, A.EMAIL)])
def test_each_role_reads_as_its_audience(role, audience):
    class User:
        pass

    user = User()
    user.role = role

    assert access.sharing_audience(user) is audience

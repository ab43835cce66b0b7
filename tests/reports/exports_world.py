"""A small hand-built world for the exports: two practices of one hub (PCN "North"),
one practice of another hub, and referrals whose every figure is known."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from referrals import workflow
from referrals.intake.service import ReasonEntry, create_referral
from referrals.models import (
    CompletionMode,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Contact,
    ContactChannel,
    ContactOutcome,
    Measurement,
    Offer,
    OfferStatus,
    PostcodeDeprivation,
    Referral,
    ReferralStatus,
    Role,
    Sex,
    Timepoint,
)

S = ReferralStatus
PATHS = {
    S.RECEIVED: [], S.ACCEPTED: [S.ACCEPTED], S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS],
    S.COMPLETED: [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
    S.DECLINED: [S.ACCEPTED, S.DECLINED],
    S.UNABLE_TO_CONTACT: [S.ACCEPTED, S.UNABLE_TO_CONTACT],
}


def utc(y, m, d, hour=10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


@dataclass
class World:
    team: object
    practice_a: object
    practice_b: object
    practice_other: object
    manager_a: object
    coordinator: object
    referrer_a: object
    referrer_b: object


def build_world(make) -> World:
    team = make.team(name=f"Hub {uuid.uuid4().hex[:6]}")
    practice_a = make.practice(team=team, ods_code="A81001", name="Alder Surgery",
                               pcn_name="North")
    practice_b = make.practice(team=team, ods_code="B82002", name="Birch Practice",
                               pcn_name="North")
    practice_other = make.practice(ods_code="C83003", name="Cedar Practice")
    return World(
        team=team, practice_a=practice_a, practice_b=practice_b, practice_other=practice_other,
        manager_a=make.user(Role.MANAGER, practice=practice_a),
        coordinator=make.user(Role.COORDINATOR, team=team),
        referrer_a=make.user(Role.REFERRER, practice=practice_a),
        referrer_b=make.user(Role.REFERRER, practice=practice_b),
    )


def refer(make, practice, referrer, *, at: datetime, status=S.RECEIVED, steps_at=(),
          path=None, person=None, reasons=("loneliness",), **intake) -> Referral:
    """A referral made at `at` and moved to `status` (or along `path`); `steps_at` gives
    each move's time (default: one hour apart after `at`)."""
    referral = create_referral(
        make.intake(practice, person=person or {}, reasons=[ReasonEntry(r) for r in reasons],
                    **intake),
        actor=referrer, now=at)
    referral.created_at = at
    referral.team_id = practice.team_id
    for i, step in enumerate(path or PATHS[status]):
        when = steps_at[i] if i < len(steps_at) else at.replace(hour=at.hour + i + 1)
        workflow.transition(referral, step, actor=referrer, reason="test", now=when)
    make.session.flush()
    return referral


def contact(make, referral, at: datetime, outcome=ContactOutcome.SPOKE, notes=""):
    make.session.add(Contact(referral_id=referral.id, at=at, method=ContactChannel.PHONE,
                             outcome=outcome, notes=notes))
    if outcome.reached and referral.first_contact_at is None:
        referral.first_contact_at = at
    make.session.flush()


def connect(make, referral, status: ConnectionStatus, kind=ConnectionKind.SIGNPOST):
    offer = Offer(id=str(uuid.uuid4()), name="Walking group", status=OfferStatus.ACTIVE)
    make.session.add(offer)
    make.session.flush()
    make.session.add(Connection(referral_id=referral.id, offer_id=offer.id, kind=kind,
                                status=status))
    make.session.flush()


def measure(make, referral, timepoint: Timepoint, on: date, scores: dict, code="ucla3"):
    make.session.add(Measurement(referral_id=referral.id, instrument=code,
                                 instrument_version="1", timepoint=timepoint,
                                 mode=CompletionMode.ASSISTED, completed_on=on, answers={},
                                 scores=scores))
    make.session.flush()


def imd(make, postcode: str, decile: int):
    make.session.add(PostcodeDeprivation(postcode=postcode, imd_decile=decile))
    make.session.flush()


PERSON_ROSE = {"given_name": "Rose", "family_name": "Tyler", "birth_date": date(1948, 6, 15),
               "sex": Sex.FEMALE, "postcode": "KB1 1AA", "ethnic_category": "A"}

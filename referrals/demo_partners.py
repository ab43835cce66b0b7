"""What the demo town adds for partner organisations (issue 15): Bev Collins of the
Kindlebury Befriending Service, and warm handovers to its offers from Jo Bennett's
caseload: two the person agreed to share (one waiting, one already taken on) and one
they did not.

Drawn from its own random stream after everything else, so the rest of the demo (who
was referred, when, what happened) stays exactly as it was.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from referrals.auth.service import create_user
from referrals.extensions import db
from referrals.matching import service as matching
from referrals.models import (
    ConnectionKind,
    ConnectionStatus,
    DirectoryOrganisation,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    Role,
    User,
)
from referrals.workdays import uk_date

ORGANISATION = "Kindlebury Befriending Service"
PARTNER = ("partner@kindly.example", "Bev Collins")
CONNECTOR = "connector@kindly.example"
NOTES = ["Lives alone since her husband died; would like a weekly phone call to start.",
         "Keen on gardening. Prefers mornings; a bit nervous about meeting new people.",
         "Hard of hearing: speak clearly, or text first."]


def build(*, password: str, now: datetime, seed: int = 2026) -> list[User]:
    """Bev's account, and the handovers she answers. Flushes; the caller commits."""
    rng = random.Random(seed + 15)
    organisation = db.session.scalars(select(DirectoryOrganisation).where(
        DirectoryOrganisation.name == ORGANISATION)).one()
    partner = create_user(email=PARTNER[0], name=PARTNER[1], role=Role.PARTNER,
                          password=password, organisation=organisation,
                          phone="01632 960444")
    offers = list(db.session.scalars(select(Offer).where(
        Offer.organisation_id == organisation.id, Offer.status == OfferStatus.ACTIVE)
        .order_by(Offer.name)))
    connector = db.session.scalars(select(User).where(User.email == CONNECTOR)).one()
    held = list(db.session.scalars(select(Referral).where(
        Referral.connector_id == connector.id, Referral.status == ReferralStatus.IN_PROGRESS)
        # Her newest: the journeys record their own suggestions on Jo's first ones.
        .order_by(Referral.id.desc())))
    today, made = uk_date(now), now - timedelta(days=2)
    shared = []
    for referral, share, note in zip(held, (True, True, False), NOTES):
        offer = next((o for o in offers if matching.open_connection(referral, o.id) is None),
                     None)
        if offer is None:
            continue
        person = referral.patient
        contact = person.email if person.email and rng.random() < 0.3 else person.phone
        connection = matching.record_connection(
            referral, offer, kind=ConnectionKind.REFERRAL, actor=connector,
            handover=matching.Handover(share=True, contact=contact, note=note) if share
            else matching.Handover(), today=made.date(), now=made)
        if share:
            shared.append(connection)
    if len(shared) > 1:  # one is taken on already; the other waits for Bev
        matching.update_connection(shared[1], status=ConnectionStatus.TAKEN_ON,
                                   on=today - timedelta(days=1), actor=partner, today=today,
                                   note="We will ring on Thursday.",
                                   now=now - timedelta(days=1))
    db.session.flush()
    return [partner]

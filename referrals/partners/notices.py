"""In-app notices between a hub and a partner organisation (issue 15): a warm handover
tells the organisation's partners someone is coming; their answer tells the connector.
Notices hold a reference and an offer's name, never a person's details (the pages behind
them show what each reader may see). Flushes; the caller commits."""
from __future__ import annotations

from sqlalchemy import select

from referrals import access
from referrals.extensions import db
from referrals.models import Connection, ConnectionKind, Referral, User
from referrals.notifications.service import notify

HANDOVER_URL = "/partner/handovers/{}"  # partners.handover: paths, as in the scheduler
CONNECTION_URL = "/caseload/referrals/{}/connections/{}"  # matching.connection


def handover_made(connection: Connection) -> int:
    """Tell each active partner of the offer's organisation of a new warm handover."""
    if connection.kind is not ConnectionKind.REFERRAL or connection.offer.organisation_id is None:
        return 0
    partners = db.session.scalars(select(User).where(
        access.organisation_partners(connection.offer.organisation_id)).order_by(User.id)).all()
    for partner in partners:
        notify(partner, "handover", f"New handover: {connection.offer.name}",
               "A connector has handed someone over to you. Open it to see what they agreed "
               "to share, and tell the connector when you take them on.",
               HANDOVER_URL.format(connection.id))
    return len(partners)


def handover_answered(connection: Connection, referral: Referral, partner: User) -> None:
    """Tell the connector holding the referral of the organisation's answer."""
    if referral.connector is None:
        return
    organisation = connection.offer.organisation
    notify(referral.connector, "handover-answer",
           f"{referral.reference}: {connection.offer.name} says "
           f"{connection.status.label.lower()}",
           f"{partner.name}{f' ({organisation.name})' if organisation else ''} answered the "
           f"handover: {connection.status.label.lower()}.",
           CONNECTION_URL.format(referral.id, connection.id))

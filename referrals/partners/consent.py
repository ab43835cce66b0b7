"""What a person agreed to share with the organisation of a warm handover, changed after
the handover was recorded: they agree later, or change their mind (the organisation then
sees only that a handover exists). The connector's casework, version-checked like any
change to a connection. Flushes; the caller commits."""
from __future__ import annotations

from datetime import datetime

from referrals import access, audit, revisions
from referrals.access import Action
from referrals.errors import CaseworkInvalid, StaleConnection
from referrals.extensions import db
from referrals.matching.service import Handover
from referrals.models import Connection, Referral, User, utcnow


def set_sharing(connection: Connection, handover: Handover, *, actor: User,
                expected_version: int | None = None, now: datetime | None = None) -> bool:
    """Record what the person now agrees the organisation sees. Returns False when
    nothing changed. Refuses a stale version (StaleConnection), anyone but the connector
    holding the referral (NotPermitted), and a signpost or missing contact
    (CaseworkInvalid, as when the handover was recorded)."""
    referral = db.session.get(Referral, connection.referral_id)
    revisions.begin(referral)
    revisions.reread(connection)
    if expected_version is not None and expected_version != connection.version:
        raise StaleConnection(connection)
    access.require(actor, Action.UPDATE_CONNECTION, referral)
    if errors := handover.problems(connection.kind):
        raise CaseworkInvalid(errors)
    now = now or utcnow()
    contact, note = handover.contact.strip(), handover.note.strip()
    before = (connection.share_with_partner, connection.partner_contact,
              connection.handover_note)
    if before == (handover.share, contact, note):
        return False
    connection.share_with_partner = handover.share
    connection.partner_contact, connection.handover_note = contact, note
    connection.shared_at = now if handover.share else None
    connection.version += 1
    connection.updated_at = now
    words = "now shared with" if handover.share else "no longer shared with"
    revisions.touch(referral, f"Connection {connection.offer.name}: their details {words} "
                              "the organisation", actor=actor, now=now)
    db.session.flush()
    audit.record_referral("set-handover-sharing", referral, actor=actor,
                          connection_id=connection.id, shared=handover.share)
    return True

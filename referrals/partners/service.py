"""Partner organisations close the loop: the warm handovers to their organisation's offers
(only what the person agreed to share), their answers, and their own listings.

Every function takes an explicit `actor` (the partner), asks referrals/access.py, audits
each read or change of a person, and flushes; the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals import access, audit
from referrals.directory import service as directory
from referrals.directory.details import DirectoryInvalid, OfferDetails
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.extensions import db
from referrals.matching import service as matching
from referrals.models import (
    CapacityStatus,
    Connection,
    ConnectionEvent,
    ConnectionStatus,
    Offer,
    Referral,
    User,
    utcnow,
)
from referrals.partners import notices

C = ConnectionStatus
# Handovers still waiting for the partner: to be taken on, or to say whether they came.
OPEN = frozenset({C.SUGGESTED, C.ACCEPTED, C.TAKEN_ON})
FILTERS = ("open", "answered", "all")
LIST_LIMIT = 100
# How far ahead "no capacity until" may be: past that, the listing is not really running.
RETURNS_WITHIN = timedelta(days=2 * 366)
NOT_SHARED = "Not shared"


@dataclass(frozen=True)
class Handover:
    """One warm handover as the partner sees it: never an NHS number, surname, reasons,
    risks or health; the person's details only when they agreed to share them."""

    id: int
    offer_name: str
    made_at: datetime
    status: ConnectionStatus
    version: int
    shared: bool
    first_name: str
    contact: str
    note: str

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


def _view(connection: Connection, referral: Referral) -> Handover:
    shared = connection.share_with_partner
    return Handover(
        id=connection.id, offer_name=connection.offer.name, made_at=connection.created_at,
        status=connection.status, version=connection.version, shared=shared,
        first_name=referral.patient.given_name if shared else "",
        contact=connection.partner_contact if shared else "",
        note=connection.handover_note if shared else "")


def _audit_read(actor: User, connection: Connection, referral: Referral, view: str) -> None:
    audit.record_referral("read", referral, actor=actor, view=view,
                          connection_id=connection.id, shared=connection.share_with_partner)


def handovers_for(actor: User, *, which: str = "all") -> list[Handover]:
    """The warm handovers to the actor's organisation's offers, newest first (at most
    LIST_LIMIT); `which` is "open", "answered" or "all". Each one shown is an audited
    read."""
    query = access.scope_handovers(
        select(Connection).join(Offer, Connection.offer_id == Offer.id), actor)
    if which == "open":
        query = query.where(Connection.status.in_(sorted(OPEN)))
    elif which == "answered":
        query = query.where(Connection.status.not_in(sorted(OPEN)))
    connections = db.session.scalars(
        query.options(selectinload(Connection.offer))
        .order_by(Connection.created_at.desc(), Connection.id.desc()).limit(LIST_LIMIT)).all()
    referrals = _referrals({c.referral_id for c in connections})
    found = []
    for connection in connections:
        referral = referrals[connection.referral_id]
        _audit_read(actor, connection, referral, "partner-handovers")
        found.append(_view(connection, referral))
    return found


def _referrals(ids: set[int]) -> dict[int, Referral]:
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(
        select(Referral).where(Referral.id.in_(sorted(ids)))
        .options(selectinload(Referral.patient)))}


def handover_connection(actor: User, connection_id: int) -> tuple[Connection, Referral] | None:
    """The connection and its referral if it is one of the actor's organisation's handovers;
    None otherwise (the caller answers 404, as if it did not exist)."""
    connection = db.session.scalars(access.scope_handovers(
        select(Connection).join(Offer, Connection.offer_id == Offer.id)
        .where(Connection.id == connection_id), actor)
        .options(selectinload(Connection.offer), selectinload(Connection.events)
                 .selectinload(ConnectionEvent.actor))).first()
    if connection is None:
        return None
    return connection, db.session.get(Referral, connection.referral_id)


def read_handover(actor: User, connection: Connection, referral: Referral) -> Handover:
    """The handover as the partner sees it; the read is audited."""
    _audit_read(actor, connection, referral, "partner-handover")
    return _view(connection, referral)


def answers_for(actor: User, connection: Connection, referral: Referral) -> list[ConnectionStatus]:
    """The answers the partner may give now, in the journey's order."""
    if not access.may_answer_handover(actor, connection, referral):
        return []
    return [s for s in matching.next_statuses(connection) if s in access.PARTNER_ANSWERS]


def answer_handover(
    connection: Connection,
    *,
    answer: ConnectionStatus | None,
    on: date | None,
    capacity_returns_on: date | None = None,
    note: str = "",
    actor: User,
    today: date,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ConnectionEvent:
    """The partner's answer to a handover: taken on, no capacity (with the day capacity
    returns, which the offer then keeps, full until then), attended or did not attend.

    It moves the connection through the one connection service (version-checked: a stale
    answer raises StaleConnection; the connector's workspace shows it at once).
    """
    now = now or utcnow()
    referral = db.session.get(Referral, connection.referral_id)
    if not access.can_see_handover(actor, connection):
        raise NotPermitted("You cannot answer this handover.")
    if not access.may_answer_handover(actor, connection, referral):
        raise CaseworkInvalid({"status": "This handover can no longer be answered: the "
                                         "connector has finished working with this person"})
    if answer is not None and answer not in access.PARTNER_ANSWERS:
        raise CaseworkInvalid({"status": "Select one of the answers shown"})
    if answer is C.NO_CAPACITY and capacity_returns_on is None:
        raise CaseworkInvalid({"capacity_returns_on": "Enter the date you will have room again"})
    if capacity_returns_on is not None and answer is not C.NO_CAPACITY:
        raise CaseworkInvalid({"capacity_returns_on": "Leave the date you will have room again "
                                                      "empty unless you answer no capacity"})
    if problem := _returns_problem(capacity_returns_on, today):
        raise CaseworkInvalid({"capacity_returns_on": problem})
    event = matching.update_connection(
        connection, status=answer, on=on, note=note, actor=actor, today=today,
        expected_version=expected_version, now=now)
    if answer is C.NO_CAPACITY:
        directory.set_capacity(connection.offer, CapacityStatus.FULL, actor=actor, now=now,
                               returns_on=capacity_returns_on)
    notices.handover_answered(connection, referral, actor)
    return event


def _returns_problem(returns_on: date | None, today: date) -> str | None:
    if returns_on is None:
        return None
    if returns_on <= today:
        return "The date you will have room again must be in the future"
    if returns_on > today + RETURNS_WITHIN:
        return "The date you will have room again must be within the next 2 years"
    return None


# --- listings ----------------------------------------------------------------------


def listings_for(actor: User) -> list[Offer]:
    """The actor's organisation's offers, by name."""
    return list(db.session.scalars(
        access.scope_partner_offers(select(Offer), actor).order_by(Offer.name, Offer.id)))


def listing(actor: User, offer_id: str) -> Offer | None:
    """One of the actor's organisation's offers; None for anyone else's."""
    return db.session.scalars(
        access.scope_partner_offers(select(Offer).where(Offer.id == offer_id), actor)).first()


def listing_details(current: OfferDetails, typed: OfferDetails) -> OfferDetails:
    """What a partner may change of a listing (its place, times and contact) taken from
    `typed`; everything else as `current` says."""
    venue = typed.venue
    if venue.latitude is None and venue.longitude is None \
            and _postcode(venue.postcode) == _postcode(current.venue.postcode):
        # The form has no map position: the same postcode keeps the one the hub set.
        venue = replace(venue, latitude=current.venue.latitude,
                        longitude=current.venue.longitude)
    return replace(current, venue=venue, accessibility=typed.accessibility,
                   sessions=typed.sessions, contact_name=typed.contact_name,
                   contact_phone=typed.contact_phone, email=typed.email,
                   website=typed.website)


def _postcode(text: str) -> str:
    return "".join(text.split()).upper()


def update_listing(offer: Offer, current: OfferDetails, typed: OfferDetails, *,
                   actor: User) -> None:
    """A partner keeps their listing current (listing_details); the directory's own rules
    apply, and the change is audited as the directory's."""
    if not access.may_keep_listing(actor, offer):
        raise NotPermitted("You can only change your own organisation's listings.")
    directory.update_offer(offer, listing_details(current, typed), actor=actor)


def set_listing_capacity(offer: Offer, capacity: CapacityStatus | None,
                         returns_on: date | None, *, actor: User, today: date) -> None:
    """Open, waiting list or full; full may say the day it has room again (in the future)."""
    if not access.may_keep_listing(actor, offer):
        raise NotPermitted("You can only change your own organisation's listings.")
    if returns_on is not None and capacity is not CapacityStatus.FULL:
        raise DirectoryInvalid({"returns_on": "Leave the date empty unless you are full"})
    if problem := _returns_problem(returns_on, today):
        raise DirectoryInvalid({"returns_on": problem})
    directory.set_capacity(offer, capacity, actor=actor, returns_on=returns_on)
    offer.capacity_returns_on = returns_on if capacity is CapacityStatus.FULL else None
    db.session.flush()  # the partner's form says the day (or that none is known)

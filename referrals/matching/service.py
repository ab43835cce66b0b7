"""Suggestions for a person, what suits them, and the connections a connector records.

A connection is one offer put to one person, followed to attended or not (the
offer-level closed loop). Its moves live in CONNECTION_MOVES and nowhere else; views
and templates ask `next_statuses()` which to offer.

Every function that changes something takes an explicit `actor`, first locks the
referral (revisions.begin), checks it may act (NotPermitted), writes its audit event,
moves the referral's version on (the FHIR Task's output changes) and flushes; the caller
commits. Changing what suits the person, or moving a connection on, names the version it
started from (the referral's, the connection's) and is refused if that has moved on.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from referrals import access, audit, geo, revisions
from referrals.access import Action
from referrals.directory import vocabulary
from referrals.directory.search import offer_loading
from referrals.errors import CaseworkInvalid, StaleConnection
from referrals.extensions import db
from referrals.matching.facts import as_of, facts_for, needs_for
from referrals.matching.scoring import Match, OfferFacts, rank
from referrals.models import (
    Connection,
    ConnectionEvent,
    ConnectionKind,
    ConnectionStatus,
    Offer,
    OfferStatus,
    Referral,
    User,
    utcnow,
)
from referrals.partners import notices

C = ConnectionStatus

# THE connection moves. A status with no moves is final; did not attend is not final,
# because people often go the next week.
# Issue 15: a partner organisation answers a warm handover: taken on (before or after the
# person accepted), then attended or did not attend; or no capacity.
CONNECTION_MOVES: dict[ConnectionStatus, frozenset[ConnectionStatus]] = {
    C.SUGGESTED: frozenset({C.ACCEPTED, C.TAKEN_ON, C.DECLINED, C.WITHDRAWN, C.NO_CAPACITY}),
    C.ACCEPTED: frozenset({C.TAKEN_ON, C.ATTENDED, C.DID_NOT_ATTEND, C.DECLINED,
                           C.NO_CAPACITY, C.WITHDRAWN}),
    C.TAKEN_ON: frozenset({C.ATTENDED, C.DID_NOT_ATTEND, C.DECLINED, C.NO_CAPACITY,
                           C.WITHDRAWN}),
    C.DID_NOT_ATTEND: frozenset({C.ATTENDED, C.WITHDRAWN}),
    C.ATTENDED: frozenset(),
    C.DECLINED: frozenset(),
    C.NO_CAPACITY: frozenset(),
    C.WITHDRAWN: frozenset(),
}
# The order a form lists statuses in: the journey's order.
STATUS_ORDER = (C.SUGGESTED, C.ACCEPTED, C.TAKEN_ON, C.ATTENDED, C.DID_NOT_ATTEND,
                C.DECLINED, C.NO_CAPACITY, C.WITHDRAWN)

PARTS_OF_DAY: tuple[tuple[str, str], ...] = (
    ("morning", "Morning"), ("afternoon", "Afternoon"), ("evening", "Evening"),
)
AVAILABILITY_SLOTS = tuple(f"{day}-{part}" for day, _ in vocabulary.WEEKDAYS
                           for part, _ in PARTS_OF_DAY)
MAX_TRAVEL_KM = 100.0
MAX_NOTE = 2000


def is_final(status: ConnectionStatus) -> bool:
    return not CONNECTION_MOVES[status]


def next_statuses(connection: Connection) -> list[ConnectionStatus]:
    """The statuses this connection may move to now, in the journey's order."""
    moves = CONNECTION_MOVES[connection.status]
    return [status for status in STATUS_ORDER if status in moves]


def _note(text: str | None) -> str:
    return (text or "").strip()


# --- suggestions -----------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    offer: Offer
    match: Match

    @property
    def fits(self) -> bool:
        """Nothing about it that does not suit the person (no "Does not fit" line)."""
        return all(factor.fits for factor in self.match.factors)

    @property
    def misfits(self) -> list[str]:
        return [f.text for f in self.match.factors if not f.fits and f.text]


@dataclass(frozen=True)
class SuggestionsByFit:
    good: list[Suggestion]  # best first
    poor: list[Suggestion]  # each with something that does not fit, best first

    @property
    def poor_reasons(self) -> list[str]:
        """Each different reason the folded offers do not fit, as they first appear."""
        return list(dict.fromkeys(text for s in self.poor for text in s.misfits))


# How many offers to rank to find `limit` good fits: some of the best scorers may not fit.
_FIT_SEARCH = 3


# Facts per offer, kept between requests: (offer.updated_at, when cached, facts). An
# offer's own changes (capacity, status, cost) move updated_at and refresh it at once;
# updated_at does not move when only a venue, a session or a category changes (nor on an
# import, which keeps the file's last_modified), so facts are also never older than
# FACTS_TTL_SECONDS. Each worker keeps its own; nothing else depends on it. A worker's
# request threads share it, so every read and change holds the lock, and it keeps at most
# FACTS_CACHE_LIMIT offers (the least recently stored go first): a directory bigger than
# that is still matched in full, its overflow loaded for each request.
FACTS_TTL_SECONDS = 60.0
FACTS_CACHE_LIMIT = 5000
_facts_cache: OrderedDict[str, tuple[datetime, float, OfferFacts]] = OrderedDict()
_facts_lock = threading.Lock()


def _active_offer_facts(excluded: set[str]) -> list[OfferFacts]:
    """Facts for every active offer but `excluded`: one light query for ids and versions,
    then one eager load of the offers not cached (or changed) since last time."""
    rows = db.session.execute(
        select(Offer.id, Offer.updated_at).where(Offer.status == OfferStatus.ACTIVE)
    ).all()
    clock = time.monotonic()
    current = {offer_id: updated for offer_id, updated in rows if offer_id not in excluded}
    with _facts_lock:
        known = {offer_id: _facts_cache[offer_id] for offer_id in current
                 if offer_id in _facts_cache}
    missing = [
        offer_id for offer_id, updated in current.items()
        if (cached := known.get(offer_id)) is None
        or cached[0] != updated or clock - cached[1] > FACTS_TTL_SECONDS
    ]
    # Loaded outside the lock: other requests need not wait for this one's query.
    fresh = {offer.id: (offer.updated_at, clock, facts_for(offer))
             for offer in _load_offers(missing)}
    known.update(fresh)
    active = {offer_id for offer_id, _ in rows}
    with _facts_lock:
        for offer_id, entry in fresh.items():
            _facts_cache[offer_id] = entry
            _facts_cache.move_to_end(offer_id)
        # Forget offers that are gone or retired, then the oldest beyond the limit.
        for offer_id in [k for k in _facts_cache if k not in active]:
            del _facts_cache[offer_id]
        while len(_facts_cache) > FACTS_CACHE_LIMIT:
            _facts_cache.popitem(last=False)
    return [known[offer_id][2] for offer_id in current if offer_id in known]


def _load_offers(ids: Sequence[str]) -> list[Offer]:
    offers: list[Offer] = []
    # In slices: SQLite limits the parameters of one statement.
    for start in range(0, len(ids), 500):
        offers.extend(db.session.scalars(
            select(Offer).where(Offer.id.in_(ids[start:start + 500])).options(*offer_loading())
        ))
    return offers


def home_of(referral: Referral) -> geo.Place | None:
    return geo.locate(referral.patient.postcode) if referral.patient.postcode else None


def connected_offer_ids(referral: Referral) -> set[str]:
    """Offers already put to this person (anything but withdrawn), so not suggested again."""
    return {c.offer_id for c in referral.connections if c.status is not C.WITHDRAWN}


def suggestions_for(referral: Referral, *, today: date, limit: int = 10,
                    home: geo.Place | None = None) -> list[Suggestion]:
    """The best active offers for this person, best first, each with its explained score.

    Offers already connected (and not withdrawn) are left out; the matcher leaves out
    what the person cannot join (age, full). `home` saves a second postcode lookup when
    the caller already has it. Reads only: the caller audits the read.
    """
    place = home if home is not None else home_of(referral)
    needs = needs_for(referral, (place.latitude, place.longitude) if place else None, today)
    facts = [as_of(f, today) for f in _active_offer_facts(connected_offer_ids(referral))]
    matches = rank(needs, facts, limit=limit)
    offers = {offer.id: offer for offer in _load_offers([m.offer_id for m in matches])}
    return [Suggestion(offers[m.offer_id], m) for m in matches if m.offer_id in offers]


def suggestions_by_fit(referral: Referral, *, today: date, limit: int = 10,
                       home: geo.Place | None = None) -> SuggestionsByFit:
    """Up to `limit` good fits first, then (apart) up to `limit` offers that score well
    but have something that does not suit the person, with why. Reads only."""
    ranked = suggestions_for(referral, today=today, limit=limit * _FIT_SEARCH, home=home)
    return SuggestionsByFit(good=[s for s in ranked if s.fits][:limit],
                            poor=[s for s in ranked if not s.fits][:limit])


def match_for(referral: Referral, offer: Offer, *, today: date,
              home: geo.Place | None = None) -> Match | None:
    """The matcher's verdict on one offer for this person (None: it rules the offer out)."""
    place = home if home is not None else home_of(referral)
    needs = needs_for(referral, (place.latitude, place.longitude) if place else None, today)
    found = rank(needs, [as_of(facts_for(offer), today)], limit=1)
    return found[0] if found else None


# --- what suits them -------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    availability: list[str]
    prefers_free: bool
    max_distance_km: float | None
    access_needs: list[str]
    language: str


def preferences_of(referral: Referral) -> Preferences:
    return Preferences(list(referral.availability or []), referral.prefers_free,
                       referral.max_distance_km, list(referral.access_needs or []),
                       referral.language or "")


def save_preferences(
    referral: Referral,
    *,
    availability: Iterable[str],
    prefers_free: bool,
    max_distance_km: float | None,
    access_needs: Iterable[str],
    language: str,
    actor: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> None:
    """Record what suits the person: the days and parts of day they can do, free only,
    how far they will travel, venue access needs and language.

    Raises CaseworkInvalid (by field) for anything outside the lists or a distance that
    is not between 0 and 100 km. Stored in a fixed order, so an unchanged form is no change.
    """
    revisions.begin(referral, expected_version)
    access.require(actor, Action.SET_PREFERENCES, referral)
    now = now or utcnow()
    slots, needs = set(availability), set(access_needs)
    language = (language or "").strip()
    errors = {}
    if slots - set(AVAILABILITY_SLOTS):
        errors["availability"] = "Select days and times from the list"
    if needs - set(vocabulary.ACCESSIBILITY_BY_CODE):
        errors["access_needs"] = "Select access needs from the list"
    if language and language not in vocabulary.LANGUAGES:
        errors["language"] = "Select a language from the list"
    if max_distance_km is not None and not 0 < max_distance_km <= MAX_TRAVEL_KM:
        errors["max_distance_km"] = (
            f"Enter a distance between 0 and {MAX_TRAVEL_KM:.0f} km, or leave it blank")
    if errors:
        raise CaseworkInvalid(errors)
    referral.availability = [s for s in AVAILABILITY_SLOTS if s in slots]
    referral.prefers_free = bool(prefers_free)
    referral.max_distance_km = max_distance_km
    referral.access_needs = [f.code for f in vocabulary.ACCESSIBILITY if f.code in needs]
    referral.language = language
    revisions.touch(referral, "What suits them updated", actor=actor, now=now)
    audit.record_referral("save-preferences", referral, actor=actor)
    db.session.flush()


# --- connections -----------------------------------------------------------------


def _check_day(on: date | None, today: date, *, not_before: date | None = None,
               field: str = "on") -> dict[str, str]:
    if on is None:
        return {field: "Enter the date"}
    if on > today:
        return {field: "The date cannot be in the future"}
    if not_before is not None and on < not_before:
        return {field: f"The date cannot be before {not_before:%-d %B %Y}, "
                       "the last change recorded"}
    return {}


MAX_CONTACT = 300


@dataclass(frozen=True)
class Handover:
    """Issue 15: what the person agreed to share with the organisation at a warm handover.
    Without `share` the partner sees that a handover exists, and nothing about the person."""

    share: bool = False
    contact: str = ""  # how they chose to be contacted: a phone number or an email address
    note: str = ""  # the connector's handover note, for the organisation

    def problems(self, kind: ConnectionKind | None) -> dict[str, str]:
        contact, note = _note(self.contact), _note(self.note)
        if not self.share:
            if contact or note:
                return {"share": "Select that they agreed to share these details, or clear "
                                 "the contact and handover note"}
            return {}
        if kind is not ConnectionKind.REFERRAL:
            return {"share": "Details are shared only with a referral (warm handover): "
                             "select referral, or do not share"}
        if not contact:
            return {"contact": "Enter how the organisation can contact them, by phone "
                               "or email as they chose"}
        if len(contact) > MAX_CONTACT:
            return {"contact": f"How to contact them must be {MAX_CONTACT} characters or fewer"}
        if len(note) > MAX_NOTE:
            return {"handover_note": f"The handover note must be {MAX_NOTE} characters or fewer"}
        return {}


def open_connection(referral: Referral, offer_id: str) -> Connection | None:
    """This referral's connection to the offer that is still being followed, if any."""
    return next((c for c in referral.connections
                 if c.offer_id == offer_id and not is_final(c.status)), None)


def record_connection(
    referral: Referral,
    offer: Offer,
    *,
    kind: ConnectionKind | None,
    status: ConnectionStatus = C.SUGGESTED,
    on: date | None = None,
    notes: str = "",
    match: Match | None = None,
    handover: Handover | None = None,
    actor: User,
    today: date,
    now: datetime | None = None,
) -> Connection:
    """Put an offer to the person as a signpost or a referral, usually as suggested, or
    straight at a later status when it already happened (they went last week).

    A referral (warm handover) may carry `handover`: what the person agreed the partner
    organisation sees (first name, how to contact them, the handover note).

    Refuses (CaseworkInvalid) an inactive offer, an offer this person is already
    connected to and still being followed, a date in the future, and a missing kind;
    NotPermitted unless the actor holds the referral and it is accepted or in progress.
    Keeps the matcher's score and explanation when the offer came from the suggestions.
    """
    revisions.begin(referral)
    access.require(actor, Action.RECORD_CONNECTION, referral)
    now = now or utcnow()
    on = on or today
    errors = {}
    if offer.status is not OfferStatus.ACTIVE:
        errors["offer"] = f"{offer.name} is not running now, so it cannot be offered"
    elif open_connection(referral, offer.id) is not None:
        errors["offer"] = f"{offer.name} is already one of this person's connections"
    if kind is None:
        errors["kind"] = "Select signpost or referral"
    if status is C.WITHDRAWN:
        errors["status"] = "A connection starts as suggested, or at what already happened"
    errors |= _check_day(on, today)
    if len(_note(notes)) > MAX_NOTE:
        errors["note"] = f"The note must be {MAX_NOTE} characters or fewer"
    handover = handover or Handover()
    errors |= handover.problems(kind)
    if errors:
        raise CaseworkInvalid(errors)
    if match is not None and match.offer_id != offer.id:
        match = None  # a score for another offer explains nothing here
    connection = Connection(
        referral_id=referral.id, offer=offer, kind=kind, status=status,
        match_score=match.score if match else None,
        match_explanation=match.explanation if match else "",
        started_on=on if status is C.ATTENDED else None,
        notes=_note(notes), created_by=actor, created_at=now, updated_at=now,
        share_with_partner=handover.share, partner_contact=_note(handover.contact),
        handover_note=_note(handover.note), shared_at=now if handover.share else None,
    )
    connection.events.append(ConnectionEvent(
        at=now, on=on, actor=actor, from_status=None, to_status=status, note=_note(notes)))
    referral.connections.append(connection)  # the collection adds it to the session
    revisions.touch(referral, f"Connection recorded: {offer.name} ({status.label.lower()})",
                    actor=actor, now=now)
    db.session.flush()
    audit.record_referral("record-connection", referral, actor=actor,
                          connection_id=connection.id, offer_id=offer.id,
                          kind=kind.value, status=status.value,
                          shared_with_partner=handover.share)
    notices.handover_made(connection)  # issue 15: the organisation hears someone is coming
    return connection


def update_connection(
    connection: Connection,
    *,
    status: ConnectionStatus | None,
    on: date | None,
    note: str = "",
    actor: User,
    today: date,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ConnectionEvent:
    """Move a connection on (accepted, attended, did not attend, declined…) as
    CONNECTION_MOVES allows, on a date that is not in the future nor before its last
    change. Attending sets the date the person started. Appends the event.

    `expected_version` is the connection's version the change was made from: of two
    people moving it at once, the second is refused (StaleConnection) with what it now is.
    """
    referral = db.session.get(Referral, connection.referral_id)
    revisions.begin(referral)
    revisions.reread(connection)
    if expected_version is not None and expected_version != connection.version:
        raise StaleConnection(connection)
    # The connector's casework, or (issue 15) a partner's answer to their handover.
    if not access.may_change_connection(actor, connection, referral, status):
        access.require(actor, Action.UPDATE_CONNECTION, referral)
    now = now or utcnow()
    errors = {}
    if status is None:
        errors["status"] = "Select what happened"
    elif status not in CONNECTION_MOVES[connection.status]:
        errors["status"] = (
            f"A connection that is {connection.status.label.lower()} cannot become "
            f"{status.label.lower()}" if not is_final(connection.status)
            else f"This connection is {connection.status.label.lower()}: that is final")
    last = max((e.on for e in connection.events if e.on is not None), default=None)
    errors |= _check_day(on, today, not_before=last)
    if len(_note(note)) > MAX_NOTE:
        errors["note"] = f"The note must be {MAX_NOTE} characters or fewer"
    if errors:
        raise CaseworkInvalid(errors)
    event = ConnectionEvent(at=now, on=on, actor=actor, from_status=connection.status,
                            to_status=status, note=_note(note))
    connection.events.append(event)
    connection.status = status
    if status is C.ATTENDED and connection.started_on is None:
        connection.started_on = on
    connection.version += 1
    connection.updated_at = now
    revisions.touch(referral, f"Connection {connection.offer.name}: {status.label.lower()}",
                    actor=actor, now=now)
    db.session.flush()
    audit.record_referral("update-connection", referral, actor=actor,
                          connection_id=connection.id, status=status.value)
    return event

"""Community champions (issue 15, point 3).

A champion is an approved volunteer with a patch: postcode districts ("KB1"). A
coordinator sets the patch; the champion sees the active listings there, the patch's
unmet needs in counts only (small ones suppressed, referrals.suppression), and suggests
new groups or corrections. Nothing a champion suggests is public until a coordinator
approves it; approval goes through the directory's own services. Services flush; the
caller commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from referrals import access, audit, suppression
from referrals.directory import service as directory
from referrals.directory.details import (
    DirectoryInvalid,
    OfferDetails,
    OrganisationDetails,
    Venue,
)
from referrals.directory.vocabulary import CATEGORY_BY_CODE
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import (
    ChampionSuggestion,
    Location,
    Offer,
    OfferKind,
    OfferStatus,
    ServiceAtLocation,
    SuggestionKind,
    SuggestionStatus,
    UnmetNeed,
    User,
    Volunteer,
    VolunteerStatus,
    utcnow,
)
from referrals.postcode import normalise_postcode

MAX_DISTRICTS = 12
MAX_TEXT = 2000
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$", re.ASCII)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9 +()\-]{6,40}$", re.ASCII)


class ChampionInvalid(DomainError):
    """`errors` maps a form field to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class StaleRecord(DomainError):
    """Someone else changed the record since the page was opened."""


# --- the patch -------------------------------------------------------------------


def parse_districts(text: str) -> list[str]:
    """"KB1, kb2 KB3" as ["KB1", "KB2", "KB3"]; ChampionInvalid when one is not a
    postcode district."""
    words = [w for w in re.split(r"[\s,;]+", (text or "").upper()) if w]
    bad = [w for w in words if not _DISTRICT.match(w)]
    if bad:
        raise ChampionInvalid({"districts": (
            f"{bad[0][:10]} is not a postcode district. Enter the first part of a postcode, "
            "like KB1, with commas between districts")})
    if len(set(words)) > MAX_DISTRICTS:
        raise ChampionInvalid({"districts": f"Enter {MAX_DISTRICTS} districts or fewer"})
    return list(dict.fromkeys(words))


def set_patch(volunteer: Volunteer, districts: list[str], *, actor: User,
              expected_version: int | None = None, now: datetime | None = None) -> None:
    """Make `volunteer` a champion for `districts`, or (empty) no longer one. Only an
    approved volunteer can be a champion. Raises StaleRecord if the record moved on from
    `expected_version`."""
    access.require_patch_setter(actor, volunteer)
    _check_version(volunteer, expected_version)
    if districts and volunteer.status is not VolunteerStatus.APPROVED:
        raise ChampionInvalid({"districts": (
            f"{volunteer.name} is {volunteer.status.label.lower()}: only an approved "
            "volunteer can be a community champion")})
    before = list(volunteer.champion_districts or [])
    volunteer.champion_districts = list(districts)
    volunteer.version += 1
    volunteer.last_active_at = now or utcnow()
    db.session.flush()
    audit.record("update", actor=actor, entity_type="volunteer", entity_id=volunteer.id,
                 detail={"champion_districts": {"from": before, "to": list(districts)}})


def team_volunteers(actor: User) -> list[Volunteer]:
    """The coordinator's team's approved volunteers, champions first."""
    rows = db.session.scalars(access.scope_team_volunteers(select(Volunteer), actor).where(
        Volunteer.status == VolunteerStatus.APPROVED).order_by(Volunteer.given_name))
    return sorted(rows, key=lambda v: not v.champion_districts)


def in_patch(postcode: str, districts: list[str]) -> bool:
    normal = normalise_postcode(postcode or "")
    return normal is not None and normal.split(" ")[0] in districts


def _patch_clause(districts: list[str]):
    # Stored postcodes are normalised ("KB1 1AB"), so the district is what comes first.
    return or_(*(func.upper(Location.postal_code).like(f"{d} %") for d in districts))


def patch_listings(champion: Volunteer) -> list[Offer]:
    """The active listings with a venue in the champion's patch, by name."""
    if not champion.champion_districts:
        return []
    offer_ids = select(ServiceAtLocation.offer_id).join(ServiceAtLocation.location).where(
        _patch_clause(champion.champion_districts))
    return list(db.session.scalars(
        select(Offer).where(Offer.id.in_(offer_ids), Offer.status == OfferStatus.ACTIVE)
        .options(selectinload(Offer.organisation), selectinload(Offer.sites))
        .order_by(Offer.name)))


@dataclass(frozen=True)
class NeedCount:
    category: str
    label: str
    shown: str  # the count as the page may show it ("<5" for 1 to 4)


def patch_unmet_needs(champion: Volunteer) -> list[NeedCount]:
    """The patch's open unmet needs (no offer found yet), counted by need; small counts
    suppressed, and nothing about any person."""
    if not champion.champion_districts:
        return []
    rows = db.session.execute(
        select(UnmetNeed.category, func.count())
        .where(UnmetNeed.postcode_district.in_(champion.champion_districts),
               UnmetNeed.met_at.is_(None))
        .group_by(UnmetNeed.category))
    # By name, not by size: an order by size would tell what "<5" hides.
    counts = [NeedCount(code, _category_label(code), suppression.shown(n)) for code, n in rows]
    return sorted(counts, key=lambda need: need.label)


def _category_label(code: str) -> str:
    term = CATEGORY_BY_CODE.get(code)
    return term.name if term else code.replace("-", " ").capitalize()


# --- suggestions -----------------------------------------------------------------


@dataclass
class SuggestionDetails:
    kind: SuggestionKind | None = None
    offer_id: str = ""
    name: str = ""
    description: str = ""
    venue: str = ""
    postcode: str = ""
    when: str = ""
    free: bool | None = None
    cost: str = ""
    contact_phone: str = ""
    email: str = ""
    note: str = ""


def suggestion_problems(champion: Volunteer, d: SuggestionDetails) -> dict[str, str]:
    errors: dict[str, str] = {}
    if d.kind is None:
        errors["kind"] = "Select whether you suggest a new group or a correction"
        return errors
    lengths = {"name": 300, "venue": 300, "when": 500, "cost": 500, "description": MAX_TEXT,
               "note": MAX_TEXT}
    for name, limit in lengths.items():
        if len(getattr(d, name)) > limit:
            errors[name] = f"Use {limit:,} characters or fewer"
    if d.email.strip() and not _EMAIL.match(d.email.strip()):
        errors["email"] = "Enter an email address like name@example.org"
    if d.contact_phone.strip() and not _PHONE.match(d.contact_phone.strip()):
        errors["contact_phone"] = "Enter a phone number, like 01632 960 001"
    if d.kind is SuggestionKind.NEW_GROUP:
        if not d.name.strip():
            errors.setdefault("name", "Enter the group's name")
        if not d.description.strip():
            errors.setdefault("description", "Enter what the group does")
        if not d.postcode.strip():
            errors["postcode"] = "Enter the postcode where the group meets"
        elif normalise_postcode(d.postcode) is None:
            errors["postcode"] = "Enter a real postcode, like KB1 1AB"
        elif not in_patch(d.postcode, champion.champion_districts):
            errors["postcode"] = (f"Enter a postcode in your patch "
                                  f"({', '.join(champion.champion_districts)})")
        if d.free is None:
            errors["free"] = "Select whether the group is free"
    else:
        if d.offer_id not in {o.id for o in patch_listings(champion)}:
            errors["offer_id"] = "Select the listing in your patch to correct"
        if not d.note.strip():
            errors.setdefault("note", "Enter what is wrong with the listing")
    return errors


def suggest(champion: Volunteer, d: SuggestionDetails, *, actor: User,
            now: datetime | None = None) -> ChampionSuggestion:
    """Store a champion's suggestion for a coordinator to review. Nothing in the
    directory changes. Raises ChampionInvalid naming every broken rule."""
    if access.champion_record(actor) is not champion:
        raise ChampionInvalid({"kind": "Only a community champion can suggest changes"})
    if errors := suggestion_problems(champion, d):
        raise ChampionInvalid(errors)
    now = now or utcnow()
    new_group = d.kind is SuggestionKind.NEW_GROUP
    suggestion = ChampionSuggestion(
        team_id=champion.team_id, volunteer_id=champion.id, kind=d.kind,
        offer_id=None if new_group else d.offer_id,
        name=d.name.strip() if new_group else "", description=d.description.strip(),
        venue=d.venue.strip() if new_group else "",
        postcode=(normalise_postcode(d.postcode) or "") if new_group else "",
        when=d.when.strip() if new_group else "", free=d.free if new_group else None,
        cost=d.cost.strip() if new_group and d.free is False else "",
        contact_phone=d.contact_phone.strip(), email=d.email.strip(),
        note=d.note.strip() if not new_group else "", created_at=now)
    db.session.add(suggestion)
    champion.last_active_at = now
    db.session.flush()
    audit.record("create", actor=actor, entity_type="champion_suggestion",
                 entity_id=suggestion.id, detail={"kind": d.kind.value,
                                                  "offer_id": suggestion.offer_id})
    return suggestion


def own_suggestions(champion: Volunteer) -> list[ChampionSuggestion]:
    return list(db.session.scalars(
        select(ChampionSuggestion).where(ChampionSuggestion.volunteer_id == champion.id)
        .order_by(ChampionSuggestion.created_at.desc()).limit(50)))


def suggestions_to_review(actor: User) -> list[ChampionSuggestion]:
    """The team's suggestions, pending first (oldest first), then the latest decided."""
    query = access.scope_suggestions(select(ChampionSuggestion), actor).options(
        selectinload(ChampionSuggestion.volunteer), selectinload(ChampionSuggestion.offer))
    pending = db.session.scalars(query.where(
        ChampionSuggestion.status == SuggestionStatus.PENDING)
        .order_by(ChampionSuggestion.created_at))
    decided = db.session.scalars(query.where(
        ChampionSuggestion.status != SuggestionStatus.PENDING)
        .order_by(ChampionSuggestion.reviewed_at.desc()).limit(20))
    return [*pending, *decided]


def approve(suggestion: ChampionSuggestion, *, actor: User,
            expected_version: int | None = None, now: datetime | None = None) -> Offer:
    """Make the suggestion public through the directory's services: a new group becomes
    an organisation and an active offer; a correction's new description and contact
    details are applied to its listing. Returns the offer. Raises StaleRecord,
    ChampionInvalid (already decided, or the directory refused it: its errors say why)."""
    access.require_reviewer(actor, suggestion)
    _check_version(suggestion, expected_version)
    _require_pending(suggestion)
    try:
        with db.session.begin_nested():
            offer = (_create_group(suggestion, actor) if suggestion.kind is SuggestionKind.NEW_GROUP
                     else _apply_correction(suggestion, actor))
    except DirectoryInvalid as exc:
        raise ChampionInvalid({"reason": "The directory could not take it: "
                               + "; ".join(exc.errors.values())}) from None
    _decide(suggestion, SuggestionStatus.APPROVED, actor=actor, reason="", now=now)
    suggestion.created_offer_id = offer.id if suggestion.kind is SuggestionKind.NEW_GROUP \
        else None
    db.session.flush()
    return offer


def reject(suggestion: ChampionSuggestion, reason: str, *, actor: User,
           expected_version: int | None = None, now: datetime | None = None) -> None:
    """Turn the suggestion down with a reason the champion sees; nothing is published."""
    access.require_reviewer(actor, suggestion)
    _check_version(suggestion, expected_version)
    _require_pending(suggestion)
    if not reason.strip():
        raise ChampionInvalid({"reason": "Enter why the suggestion is not approved"})
    if len(reason) > MAX_TEXT:
        raise ChampionInvalid({"reason": f"Use {MAX_TEXT:,} characters or fewer"})
    _decide(suggestion, SuggestionStatus.REJECTED, actor=actor, reason=reason.strip(), now=now)


def _create_group(s: ChampionSuggestion, actor: User) -> Offer:
    organisation = directory.create_organisation(
        OrganisationDetails(name=s.name, description=s.description, email=s.email,
                            phone=s.contact_phone), actor=actor)
    description = s.description + (f"\n\nWhen: {s.when}" if s.when else "")
    return directory.create_offer(OfferDetails(
        name=s.name, organisation_id=organisation.id, kind=OfferKind.GROUP,
        description=description, status=OfferStatus.ACTIVE,
        venue=Venue(name=s.venue, postcode=s.postcode), free=bool(s.free),
        cost_description=s.cost, contact_phone=s.contact_phone, email=s.email), actor=actor)


def _apply_correction(s: ChampionSuggestion, actor: User) -> Offer:
    offer = s.offer
    if offer is None:
        raise DirectoryInvalid({"offer_id": "The listing no longer exists"})
    access.require(actor, access.Action.EDIT_DIRECTORY)
    changed = {}
    for name in ("description", "contact_phone", "email"):
        value = getattr(s, name)
        if value and value != getattr(offer, name):
            changed[name] = value
            setattr(offer, name, value)
    audit.record("update", actor=actor, entity_type="offer", entity_id=None,
                 detail={"offer_id": offer.id, "name": offer.name, "changed": sorted(changed),
                         "champion_suggestion_id": s.id})
    db.session.flush()
    return offer


def _decide(s: ChampionSuggestion, status: SuggestionStatus, *, actor: User, reason: str,
            now: datetime | None) -> None:
    s.status = status
    s.reviewed_by_id = actor.id
    s.reviewed_at = now or utcnow()
    s.review_reason = reason
    s.version += 1
    db.session.flush()
    audit.record("update", actor=actor, entity_type="champion_suggestion", entity_id=s.id,
                 detail={"status": status.value})


def _require_pending(s: ChampionSuggestion) -> None:
    if s.status is not SuggestionStatus.PENDING:
        raise ChampionInvalid({"reason": f"This suggestion was already "
                               f"{s.status.label.lower()}"})


def _check_version(obj, expected: int | None) -> None:
    # Re-read under a lock so two reviewers cannot both decide (one winner).
    db.session.refresh(obj, with_for_update=True)
    if expected is not None and expected != obj.version:
        raise StaleRecord("Someone else changed this since you opened it. Check what it "
                          "says now, then try again.")

"""What the demo town adds for the community side (issue 15, points 3 and 4): Maya Singh,
a community champion for KB1 with her own volunteer account; a pending suggestion of hers;
and a week of calls to the hub's phone line, one or more of each outcome.

Built through the same services the pages use. Guarded by look-ups, because the
volunteers' part of the demo seeds other volunteers and may seed this one first.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from referrals import geo
from referrals.calls import service as calls
from referrals.champions import service as champions
from referrals.extensions import db
from referrals.models import (
    CallOutcome,
    Role,
    Team,
    User,
    Volunteer,
    VolunteerOffer,
    VolunteerStatus,
)

CHAMPION_EMAIL = "champion@kindly.example"
# Who takes the demo's calls (and sets the champion's patch).
COORDINATOR_EMAIL = "coordinator@kindly.example"
CONNECTOR_EMAIL = "connector@kindly.example"
# Appended to demo.STAFF: (email, name, role, practice index, capacity).
STAFF = [(CHAMPION_EMAIL, "Maya Singh", Role.VOLUNTEER, None, None)]

CALLS = [  # (hours ago, details)
    (2, calls.CallDetails(
        caller_name="Pat Jones", caller_phone="07700 900123", need="Lonely since her "
        "husband died; would like someone to ring for a chat each week",
        outcome=CallOutcome.VOLUNTEER_REQUEST, request_need=VolunteerOffer.BEFRIENDING_CALLS,
        when=["tue-morning", "thu-morning"], postcode="KB1 2AA",
        volunteer_note="A friendly chat each week; she loves her garden")),
    (5, calls.CallDetails(
        caller_name="Ken Ward", caller_phone="07700 900456", for_someone_else=True,
        person_name="Doreen Ward", need="His neighbour never goes out; wants to know "
        "what is on", outcome=CallOutcome.INFORMATION,
        information_given="Lunch club times at St Mary's, and that Doreen can call us "
        "herself or agree to Ken calling for her")),
    (26, calls.CallDetails(
        caller_name="Frank Hall", caller_phone="01632 960777", need="A lift to the "
        "Tuesday lunch club after his hip operation", urgent=True,
        outcome=CallOutcome.VOLUNTEER_REQUEST, request_need=VolunteerOffer.LIFTS,
        when=["tue-morning"], postcode="KB2 1EX",
        volunteer_note="A lift to the Tuesday lunch club and back, door to door")),
    (30, calls.CallDetails(
        caller_name="Grace Turner", caller_phone="07700 900789", need="Feeling low since "
        "moving here; would like to meet people", outcome=CallOutcome.SELF_REFERRAL)),
    (50, calls.CallDetails(
        caller_name="Irene Baker", need="Asked whether the walking group runs in winter",
        outcome=CallOutcome.INFORMATION, information_given="Yes, Saturdays 10am")),
]


def build(team: Team, accounts: list[User], *, now: datetime, progress=lambda _: None) -> None:
    """The champion, her suggestion and the calls. Flushes; the caller commits."""
    by_email = {a.email: a for a in accounts}
    coordinator = by_email[COORDINATOR_EMAIL]
    connector = by_email[CONNECTOR_EMAIL]
    champion = _champion(team, coordinator, now=now)
    if champion is not None and not champions.own_suggestions(champion):
        champions.suggest(champion, champions.SuggestionDetails(
            kind=champions.SuggestionKind.NEW_GROUP, name="Knit and Natter",
            description="Knitting, crochet and a cup of tea; beginners welcome, wool provided.",
            venue="The Old Library", postcode="KB1 2AA", when="Thursdays, 2pm to 4pm",
            free=True, contact_phone="01632 960555"), actor=champion.user,
            now=now - timedelta(days=1))
    for i, (hours, details) in enumerate(CALLS):
        calls.record_call(details, actor=coordinator if i % 2 == 0 else connector,
                          now=now - timedelta(hours=hours))
    progress(f"Added community champion Maya Singh (KB1), her suggestion, and "
             f"{len(CALLS)} calls to the hub.")


def _champion(team: Team, coordinator: User, *, now: datetime) -> Volunteer | None:
    user = db.session.scalars(select(User).where(User.email == CHAMPION_EMAIL)).first()
    if user is None:
        return None
    volunteer = db.session.scalars(select(Volunteer).where(
        (Volunteer.user_id == user.id) | (Volunteer.email == CHAMPION_EMAIL))).first()
    if volunteer is None:
        place = geo.locate("KB1 1AD")
        volunteer = Volunteer(
            team_id=team.id, user_id=user.id, given_name="Maya", family_name="Singh",
            email=CHAMPION_EMAIL, phone="07700 900321", postcode="KB1 1AD",
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
            offers=[VolunteerOffer.WALKING_BUDDY.value, VolunteerOffer.GROUP_HELPER.value],
            availability=["sat-morning", "wed-evening"], travel_km=3.0,
            consent_to_contact=True, status=VolunteerStatus.APPROVED,
            decided_by_id=coordinator.id, decided_at=now - timedelta(days=60),
            references_checked_on=(now - timedelta(days=70)).date(),
            references_checked_by_id=coordinator.id,
            dbs_checked_on=(now - timedelta(days=65)).date(), dbs_checked_by_id=coordinator.id,
            created_at=now - timedelta(days=80), last_active_at=now)
        db.session.add(volunteer)
        db.session.flush()
    if volunteer.user_id is None:
        volunteer.user_id = user.id
    if not volunteer.champion_districts and volunteer.status is VolunteerStatus.APPROVED:
        champions.set_patch(volunteer, ["KB1"], actor=coordinator, now=now)
    return volunteer if volunteer.status is VolunteerStatus.APPROVED else None

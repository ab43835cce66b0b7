"""What the demo town adds for the hub report's community figures (issue 15 point 5):
volunteers who log their hours, calls to the hub's phone line, and community
organisations' answers to warm handovers, all in the last complete quarter, so the
coordinator's hub report shows "Volunteers and the community" with real figures.

Plain rows only, and no accounts: these are the hub's longer-standing volunteers, whose
sign-up and approval happened before the quarter (the sign-up journey and its accounts
are the volunteers' demo module's). Everything here draws from its own random stream, so
the rest of the demo is exactly as it was, and `add` adds nothing when its volunteers
are already there, so it coexists with the other demo modules and a second run.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from referrals import workdays
from referrals.extensions import db
from referrals.models import (
    CallOutcome,
    Connection,
    ConnectionEvent,
    ConnectionKind,
    ConnectionStatus,
    DirectoryOrganisation,
    HubCall,
    Offer,
    OfferStatus,
    PostcodePlace,
    Referral,
    ReferralStatus,
    Role,
    Team,
    User,
    Volunteer,
    VolunteerHours,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
)
from referrals.scopes import UK, Period

# Their emails share a domain nobody else's demo uses: the guard looks for it.
DOMAIN = "neighbours.example"
APPROVED = [("Pauline", "Drake"), ("Winston", "Osei"), ("Kath", "Molloy"), ("Derek", "Shaw"),
            ("Bushra", "Iqbal"), ("Gwen", "Pritchard"), ("Leon", "Fairweather"),
            ("Marjorie", "Bell")]
LOGGING = 6  # the first six log their hours
APPLIED = [("Ellie", "Ward"), ("Tomasz", "Nowak"), ("Ruby", "Campbell"), ("Anil", "Mehta"),
           ("Siobhan", "Reilly"), ("Harvey", "Lord")]
POSTCODES = ["KB1 2AA", "KB1 4BT", "KB2 1EX", "KB2 4HP", "KB3 2NS", "KB3 5PW"]
SLOTS = ["mon-morning", "tue-afternoon", "wed-morning", "thu-evening", "sat-morning"]
CALLS = ([CallOutcome.SELF_REFERRAL] * 7 + [CallOutcome.VOLUNTEER_REQUEST] * 6
         + [CallOutcome.INFORMATION] * 9)
CALL_NEEDS = {
    CallOutcome.SELF_REFERRAL: "Lonely since moving here; would like to talk to someone "
                               "about what is on.",
    CallOutcome.VOLUNTEER_REQUEST: "Would like a weekly phone call from a volunteer.",
    CallOutcome.INFORMATION: "Asked about groups for carers.",
}
CALLERS = ["Mrs Amos", "Mr Ferreira", "June (for her father)", "Mr Latham", "Ms Oduya",
           "Mrs Kowalski", "Mr Price"]
# The answers two organisations gave their warm handovers: mostly taken on and attended.
HANDOVER_PLAN = ([ConnectionStatus.ATTENDED] * 5
                 + [ConnectionStatus.DID_NOT_ATTEND, ConnectionStatus.NO_CAPACITY])


def add(team: Team, *, now: datetime, seed: int = 2015) -> None:
    """The last quarter's volunteers, hours, calls and handover answers for `team`.
    Flushes; the caller commits."""
    if db.session.scalar(select(Volunteer.id).where(
            Volunteer.email.like(f"%@{DOMAIN}")).limit(1)) is not None:
        return
    rng = random.Random(seed)
    period = Period.last_quarter(workdays.uk_date(now))
    # The team's connectors and coordinators take the calls; the first coordinator checked
    # and approved the volunteers.
    staff = db.session.scalars(select(User).where(User.team_id == team.id)
                               .order_by(User.id.desc())).all()
    coordinator = {user.role: user for user in staff}.get(Role.COORDINATOR)
    _volunteers(team, period, rng, coordinator=coordinator, now=now)
    _calls(team, period, rng, staff=staff, now=now)
    _handovers(team, period, rng, now=now)
    db.session.flush()


def _at(day: date, rng: random.Random) -> datetime:
    """A moment in the working day of a UK `day`, as UTC."""
    local = datetime.combine(day, time(rng.randint(9, 16), rng.randrange(0, 60, 5)), UK)
    return local.astimezone(UTC)


def _volunteers(team: Team, period: Period, rng: random.Random, *, coordinator,
                now: datetime) -> None:
    places = {p.postcode: p for p in db.session.scalars(
        select(PostcodePlace).where(PostcodePlace.postcode.in_(POSTCODES)))}
    checker = coordinator.id if coordinator else None
    last_day = min(period.end, workdays.uk_date(now))
    for k, (given, family) in enumerate(APPROVED):
        decided = _at(period.start - timedelta(days=rng.randint(30, 300)), rng)
        volunteer = _volunteer(team, given, family, places, rng, status=VolunteerStatus.APPROVED,
                               created=decided - timedelta(days=rng.randint(10, 30)))
        volunteer.decided_at, volunteer.decided_by_id = decided, checker
        volunteer.references_checked_on = (decided - timedelta(days=3)).date()
        volunteer.dbs_checked_on = (decided - timedelta(days=1)).date()
        volunteer.references_checked_by_id = volunteer.dbs_checked_by_id = checker
        # Heard from during the quarter, so the retention job keeps them.
        volunteer.last_active_at = _at(last_day - timedelta(days=rng.randint(0, 20)), rng)
        if k >= LOGGING:
            continue
        day = period.start + timedelta(days=rng.randint(0, 10))
        while day <= last_day:
            db.session.add(VolunteerHours(volunteer=volunteer, on=day,
                                          hours=rng.choice([1, 1.5, 2, 2.5, 3]),
                                          note="Weekly befriending call and a visit"))
            volunteer.last_active_at = _at(day, rng)
            day += timedelta(days=rng.randint(6, 14))
    for given, family in APPLIED:
        signed_up = _at(period.start + timedelta(days=rng.randint(0, period.days - 1)), rng)
        _volunteer(team, given, family, places, rng, status=VolunteerStatus.APPLIED,
                   created=signed_up)


def _volunteer(team, given, family, places, rng, *, status, created) -> Volunteer:
    postcode = rng.choice(POSTCODES)
    place = places.get(postcode)
    offers = rng.sample([o.value for o in VolunteerOffer if o is not VolunteerOffer.SKILLS],
                        rng.randint(1, 3))
    volunteer = Volunteer(
        team_id=team.id, given_name=given, family_name=family,
        email=f"{given}.{family}@{DOMAIN}".lower(), phone=f"07700 900{rng.randint(0, 999):03d}",
        postcode=postcode, latitude=place.latitude if place else None,
        longitude=place.longitude if place else None, offers=offers,
        availability=rng.sample(SLOTS, rng.randint(1, 3)), travel_km=rng.choice([2.0, 5.0]),
        consent_to_contact=True, status=status, created_at=created, last_active_at=created)
    db.session.add(volunteer)
    return volunteer


def _calls(team: Team, period: Period, rng: random.Random, *, staff, now: datetime) -> None:
    for k, outcome in enumerate(CALLS):
        received = _at(period.start + timedelta(days=rng.randint(0, period.days - 1)), rng)
        received = min(received, now - timedelta(hours=1))
        caller = CALLERS[k % len(CALLERS)]
        call = HubCall(team_id=team.id, taken_by_id=staff[k % len(staff)].id if staff else None,
                       received_at=received, caller_name=caller,
                       caller_phone=f"01632 960{rng.randint(0, 999):03d}",
                       need=CALL_NEEDS[outcome], outcome=outcome, created_at=received,
                       for_someone_else="for her" in caller, their_agreement="for her" in caller)
        if outcome is CallOutcome.INFORMATION:
            call.information_given = "Gave the Carers Network's number and Thursday drop-in."
        if outcome is CallOutcome.VOLUNTEER_REQUEST:
            # Long since met: a closed request, so no connector's list is waiting on it.
            call.request = VolunteerRequest(
                team_id=team.id, need=VolunteerOffer.BEFRIENDING_CALLS,
                given_name=caller.split()[-1], postcode=rng.choice(POSTCODES),
                # Written for the volunteer: the caller's words stay in the call log.
                notes="A friendly chat on the phone each week.", status="closed",
                created_at=received,
                created_by_id=call.taken_by_id)
        db.session.add(call)


def _handovers(team: Team, period: Period, rng: random.Random, *, now: datetime) -> None:
    """Warm handovers to the two organisations with the most offers, for the team's
    referrals that had arrived by then, each answered during the quarter."""
    ends = min(period.ends_before, now) - timedelta(days=3)
    offers_by_org = _busiest_organisations(2)
    people = db.session.scalars(
        select(Referral).where(
            Referral.team_id == team.id, Referral.created_at < ends - timedelta(days=1),
            Referral.status.not_in((ReferralStatus.REJECTED, ReferralStatus.CANCELLED,
                                    ReferralStatus.RECEIVED)))
        .order_by(Referral.created_at, Referral.id)).all()
    if not people or not offers_by_org:
        return
    k = 0
    for offers in offers_by_org:
        for j, answer in enumerate(HANDOVER_PLAN):
            referral, offer = people[k % len(people)], offers[j % len(offers)]
            k += 1
            start = max(referral.created_at + timedelta(days=1), period.starts_at)
            made = start + (ends - start) * rng.uniform(0, 0.5)
            _handover(referral, offer, answer, made, ends, rng)


def _busiest_organisations(how_many: int) -> list[list[Offer]]:
    found = db.session.execute(
        select(DirectoryOrganisation.id).join(Offer, Offer.organisation_id ==
                                              DirectoryOrganisation.id)
        .where(Offer.status == OfferStatus.ACTIVE)
        .group_by(DirectoryOrganisation.id, DirectoryOrganisation.name)
        .order_by(func.count(Offer.id).desc(), DirectoryOrganisation.name)
        .limit(how_many)).scalars().all()
    return [db.session.scalars(select(Offer).where(Offer.organisation_id == org,
                                                   Offer.status == OfferStatus.ACTIVE)
                               .order_by(Offer.name)).all() for org in found]


def _handover(referral: Referral, offer: Offer, answer: ConnectionStatus, made: datetime,
              ends: datetime, rng: random.Random) -> None:
    connector = referral.connector_id
    steps = [(ConnectionStatus.ACCEPTED, made, connector)]
    answered = made + timedelta(days=rng.randint(1, 3), hours=rng.randint(1, 5))
    if answer is ConnectionStatus.NO_CAPACITY:
        steps.append((answer, min(answered, ends), None))
    else:
        steps.append((ConnectionStatus.TAKEN_ON, min(answered, ends), None))
        went = answered + timedelta(days=rng.randint(5, 9))
        steps.append((answer, min(went, ends + timedelta(days=2)), None))
    last = steps[-1]
    connection = Connection(
        referral_id=referral.id, offer=offer, kind=ConnectionKind.REFERRAL, status=last[0],
        notes="Would like someone to meet them at the door the first time.",
        started_on=last[1].date() if last[0] is ConnectionStatus.ATTENDED else None,
        created_by_id=connector, created_at=made, updated_at=last[1])
    previous = None
    for status, at, actor in steps:
        connection.events.append(ConnectionEvent(at=at, on=at.date(), actor_id=actor,
                                                 from_status=previous, to_status=status))
        previous = status
    db.session.add(connection)

"""The demo market town, built through the same services real users go through."""
from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from referrals import (
    demo_community_side,
    demo_partners,
    demo_reports,
    ethnicity,
    geo,
    reasons,
    workdays,
    workflow,
)
from referrals.auth.service import create_user
from referrals.directory.importing import import_pages
from referrals.extensions import db
from referrals.intake.service import (
    SELF_REFERRAL,
    ConsentRecord,
    IntakeRequest,
    PersonDetails,
    ReasonEntry,
    create_referral,
)
from referrals.models import (
    AwayPeriod,
    CommunicationNeed,
    ConnectionKind,
    ConnectionStatus,
    ConsentMethod,
    Contact,
    ContactChannel,
    ContactMethod,
    ContactOutcome,
    FollowUp,
    FollowUpStatus,
    Offer,
    Patient,
    Practice,
    ReferralStatus,
    Role,
    Sex,
    Team,
    Urgency,
    User,
    utcnow,
)
from referrals.nhs_number import check_digit

S = ReferralStatus
DATA = Path(__file__).resolve().parent / "directory" / "data"
DIRECTORY_FILE = DATA / "kindlebury-directory.json"
POSTCODES_FILE = DATA / "kindlebury-postcodes.csv"
# The day the directory file's "last checked" dates were written for; the demo moves
# them by however long ago that was, so the town never all falls due for checking.
DIRECTORY_WRITTEN_ON = date(2026, 11, 23)

PRACTICES = [
    ("KND001", "Market Street Surgery", "12 Market Street, Kindlebury", "KB1 1AB", "01632 960101"),
    ("KND002", "Riverside Medical Centre", "Mill Lane, Kindlebury", "KB2 3BD", "01632 960202"),
    ("KND003", "Hillview Health Centre", "4 Hillview Road, Upper Kindlebury", "KB3 5EF", "01632 960303"),
]
PCN = "Kindlebury and Vale PCN"
TEAM_NAME = "Kindlebury Community Connectors"

# (email, name, role, practice index or None, capacity)
STAFF = [
    ("gp@kindly.example", "Dr Priya Shah", Role.REFERRER, 0, None),
    ("gp2@kindly.example", "Dr Tom Okafor", Role.REFERRER, 1, None),
    ("gp3@kindly.example", "Nurse Helen Price", Role.REFERRER, 2, None),
    ("manager@kindly.example", "Sandra Lowe", Role.MANAGER, 0, None),
    ("manager2@kindly.example", "Gareth Evans", Role.MANAGER, 1, None),
    ("manager3@kindly.example", "Aisha Rahman", Role.MANAGER, 2, None),
    # Small capacities for a small town, so the coordinator sees a team near its limit.
    ("connector@kindly.example", "Jo Bennett", Role.CONNECTOR, None, 7),
    ("connector2@kindly.example", "Sam Patel", Role.CONNECTOR, None, 6),
    ("connector3@kindly.example", "Megan Hughes", Role.CONNECTOR, None, 4),
    ("coordinator@kindly.example", "Ruth Adeyemi", Role.COORDINATOR, None, None),
    ("admin@kindly.example", "Alex Morgan", Role.ADMIN, None, None),
]
STAFF += demo_community_side.STAFF  # issue 15: a volunteer, a champion, a partner

GIVEN = {
    Sex.FEMALE: ["Margaret", "Joan", "Aisha", "Sarah", "Evelyn", "Grace", "Patricia", "Zainab",
                 "Lucy", "Irene", "Hannah", "Doreen", "Chloe", "Nia", "Maureen", "Fatima"],
    Sex.MALE: ["George", "Arthur", "Dennis", "Mohammed", "Liam", "Kenneth", "Tariq", "Frank",
               "Peter", "Raymond", "Owen", "Callum", "Stanley", "Imran"],
}
FAMILY = ["Walker", "Hughes", "Begum", "Thompson", "Clarke", "Ali", "Wright", "Robinson",
          "Evans", "Khan", "Turner", "Edwards", "Green", "Hall", "Wood", "Jackson", "Harris",
          "Lewis", "Morris", "Cooper", "Ward", "Baker"]
STREET_POSTCODES = ["KB1 2AA", "KB1 4BT", "KB1 6DQ", "KB2 1EX", "KB2 4HP", "KB2 7LU",
                    "KB3 2NS", "KB3 5PW", "KB3 8RY"]
WHAT_MATTERS = [
    "Getting out of the house more since my husband died.",
    "Meeting people who like gardening.",
    "Feeling useful again; used to be a bus driver.",
    "Help with money worries so I can sleep.",
    "Some time for myself while caring for Mum.",
    "Walking with others to get fitter after my heart operation.",
    "Finding a singing group like the one I used to go to.",
    "Getting back to work part-time.",
    "Someone to talk to once a week.",
]
RISKS = ["Lives alone", "Uses a walking frame", "Dog in the house: ask before visiting",
         "Hard of hearing: speak clearly", "Recent fall"]

# The status each demo referral should reach, and how many of each: every status
# appears, most closed referrals end completed, about a tenth are still received.
STATUS_MIX = (
    [S.RECEIVED] * 5 + [S.ACCEPTED] * 5 + [S.IN_PROGRESS] * 10 + [S.COMPLETED] * 10
    + [S.DECLINED] * 3 + [S.UNABLE_TO_CONTACT] * 3 + [S.REJECTED] * 2 + [S.CANCELLED] * 2
)
PATHS = {
    S.RECEIVED: [],
    S.ACCEPTED: [S.ACCEPTED],
    S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS],
    S.COMPLETED: [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
    S.DECLINED: [S.ACCEPTED, S.IN_PROGRESS, S.DECLINED],
    S.UNABLE_TO_CONTACT: [S.ACCEPTED, S.UNABLE_TO_CONTACT],
    S.REJECTED: [S.REJECTED],
    S.CANCELLED: [S.CANCELLED],
}
CLOSING_REASONS = {
    S.COMPLETED: "Goals met: attending two groups each week.",
    S.DECLINED: "Said they would rather not take part at the moment.",
    S.UNABLE_TO_CONTACT: "Three calls and a letter, no reply.",
    S.REJECTED: "Needs are clinical; referred back to the GP for the community mental health team.",
    S.CANCELLED: "Patient moved out of the area before contact.",
}

# Issue 14 (letters): what the connectors ask Market Street Surgery to do as some of its
# referrals close, so the demo GP's navigation shows letters needing action.
GP_ACTIONS = [
    "Please review her pain relief: she says it stops her walking to the group.",
    "Please consider a hearing test: he finds groups hard to follow.",
]


def is_present() -> bool:
    """Whether any of the demo's fixed names (team, practices, accounts) is already stored."""
    return (
        db.session.scalar(select(Team.id).where(Team.name == TEAM_NAME).limit(1)) is not None
        or db.session.scalar(
            select(Practice.id).where(Practice.ods_code.in_([p[0] for p in PRACTICES])).limit(1)
        ) is not None
        or db.session.scalar(
            select(User.id).where(User.email.in_([s[0] for s in STAFF])).limit(1)
        ) is not None
    )


def has_data() -> bool:
    return (
        db.session.scalar(select(User.id).limit(1)) is not None
        or db.session.scalar(select(Patient.id).limit(1)) is not None
    )


def demo_nhs_numbers(rng: random.Random):
    """Valid NHS numbers from the never-issued 999 test range."""
    seen = set()
    while True:
        first_nine = f"999{rng.randrange(0, 1_000_000):06d}"
        digit = check_digit(first_nine)
        if digit is not None and first_nine not in seen:
            seen.add(first_nine)
            yield first_nine + str(digit)


def build(*, password: str, progress: Callable[[str], None] = lambda _: None,
          people: int = 40, seed: int = 2026) -> list[User]:
    """Create the town and return the demo accounts. Flushes; the caller commits."""
    rng = random.Random(seed)
    now = utcnow()
    team = Team(name=TEAM_NAME, first_contact_days=5)
    db.session.add(team)
    practices = []
    for ods, name, address, postcode, phone in PRACTICES:
        practice = Practice(ods_code=ods, name=name, address=address, postcode=postcode,
                            phone=phone, pcn_name=PCN, team=team)
        db.session.add(practice)
        practices.append(practice)
    db.session.flush()
    progress(f"Created {len(practices)} practices and the connector team.")
    build_directory(today=workdays.uk_date(now), progress=progress)

    accounts = [
        create_user(email=email, name=name, role=role, password=password,
                    practice=practices[p] if p is not None else None,
                    team=team if role.belongs_to_team else None, capacity=capacity,
                    phone="01632 960900" if role.belongs_to_team else "")
        for email, name, role, p, capacity in STAFF
        if not role.belongs_to_organisation  # made with their organisation, below
    ]
    by_role = defaultdict(list)
    for account in accounts:
        by_role[account.role].append(account)
    referrers, connectors = by_role[Role.REFERRER], by_role[Role.CONNECTOR]
    progress(f"Created {len(accounts)} staff accounts.")

    numbers = demo_nhs_numbers(rng)
    statuses = (STATUS_MIX * (people // len(STATUS_MIX) + 1))[:people]
    rng.shuffle(statuses)
    # One connector is on leave this week, so the newest referrals route round her.
    today = workdays.uk_date(now)
    # ...and has leave booked ahead too (connectors may book several periods).
    connectors[-1].away_periods = [
        AwayPeriod(starts_on=today - timedelta(days=2), ends_on=today + timedelta(days=5),
                   note="Annual leave"),
        AwayPeriod(starts_on=today + timedelta(days=40), ends_on=today + timedelta(days=44),
                   note="Training course")]
    # Oldest first, so routing sees each connector's caseload as it stood at the time.
    plan = sorted(((target, _past(now, rng, recent=target is S.RECEIVED)) for target in statuses),
                  key=lambda item: item[1])
    # Their own random streams, so the town's story is the same with or without them.
    ethnic_groups = ethnicity.allocate(people, random.Random(seed + 1))
    unmet_rng = random.Random(seed + 2)
    asks = 0  # GP_ACTIONS given so far
    for i, (target, created) in enumerate(plan):
        referrer = referrers[i % len(referrers)]
        referral = create_referral(  # routes it: the team, and a connector with room
            _intake(rng, next(numbers), referrer.practice, now.date(),
                    ethnic_category=ethnic_groups[i]),
            actor=referrer, now=created,
        )
        if referral.connector is None and PATHS[target] and PATHS[target][0] is S.ACCEPTED:
            # Nobody had room, but a connector took it from the team queue anyway.
            taker = connectors[i % len(connectors)]
            workflow.record_assignment(referral, taker, actor=taker, now=created,
                                       reason="Taken from the team queue")
        at = created
        for step in PATHS[target]:
            at = at + timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 6))
            at = min(at, now - timedelta(minutes=5))
            actor = referrer if step is S.CANCELLED else (referral.connector or connectors[0])
            if step in (S.IN_PROGRESS, S.UNABLE_TO_CONTACT):
                _casework_before(referral, rng, until=at, reached=step is S.IN_PROGRESS)
            if step in (S.COMPLETED, S.DECLINED):
                _connections(referral, rng, until=at, outcome=step)
                _measures(referral, rng, until=at - timedelta(minutes=30),
                          follow_up=step is S.COMPLETED)
                demo_reports.unmet_needs(referral, unmet_rng, until=at - timedelta(minutes=40),
                                         closing=True)
            if step in (S.COMPLETED, S.DECLINED) and referrer.practice is practices[0] \
                    and asks < len(GP_ACTIONS):
                referral.gp_actions, asks = GP_ACTIONS[asks], asks + 1
            workflow.transition(referral, step, actor=actor, now=at,
                                reason=CLOSING_REASONS.get(step, ""))
        if target is S.IN_PROGRESS:
            _casework_since(referral, rng, now=now, today=today)
            _connections(referral, rng, until=now - timedelta(minutes=5), outcome=None)
            _measures(referral, rng, until=now - timedelta(minutes=5),
                      follow_up=rng.random() < 0.5)
            demo_reports.unmet_needs(referral, unmet_rng, until=now - timedelta(minutes=10),
                                     closing=False)
    _self_referral(practices[1], now=now - timedelta(hours=3))
    accounts += demo_partners.build(password=password, now=now, seed=seed)  # issue 15
    db.session.flush()
    progress(f"Created {people} people with referrals in every status, and a self-referral.")
    imd = demo_reports.load_imd()
    progress(f"Loaded the demo's synthetic IMD deciles for {imd.created} postcodes.")
    accounts += demo_community_side.build(team, accounts, password=password, now=now,
                                          progress=progress)
    return accounts


def _self_referral(practice: Practice, *, now: datetime) -> None:
    """Someone who found the directory and asked a connector to get in touch."""
    create_referral(IntakeRequest(
        person=PersonDetails(nhs_number="", given_name="Brenda", family_name="Okoro",
                             birth_date=date(1951, 6, 14), sex=Sex.UNKNOWN, postcode="KB2 4HP",
                             phone="07700 900514", preferred_contact=ContactMethod.PHONE),
        reasons=[ReasonEntry(reasons.OTHER.code, "Self-referral")],
        practice=practice,
        consent=ConsentRecord(given=True, method=ConsentMethod.WRITTEN),
        what_matters="Since moving here to be near my daughter I don't know anyone. I used to "
                     "sing in a choir and would love to find one.",
        source=SELF_REFERRAL, referrer_name="Self-referral",
    ), actor=None, actor_label="public directory", now=now)


def build_directory(*, today: date, progress: Callable[[str], None] = lambda _: None) -> None:
    """The town's postcodes and its community directory, through the same loaders the
    import commands use."""
    with POSTCODES_FILE.open(newline="") as rows:
        geo.load_postcodes(csv.DictReader(rows))
    report = import_pages([json.loads(DIRECTORY_FILE.read_text())], source=DIRECTORY_FILE.name)
    if report.errors:
        raise RuntimeError(f"the demo directory did not import: {report.errors}")
    shift = today - DIRECTORY_WRITTEN_ON
    for offer in db.session.scalars(select(Offer)):
        if offer.last_verified_on is not None:
            offer.last_verified_on = min(today, offer.last_verified_on + shift)
    db.session.flush()
    progress(f"Imported the community directory: {report.services_read} offers.")


# Parts of the week people say suit them, for the matcher.
SLOTS = ["MO-morning", "TU-morning", "TU-afternoon", "WE-morning", "TH-morning",
         "TH-afternoon", "FR-morning", "SA-morning", "WE-evening"]


def _connections(referral, rng: random.Random, *, until: datetime,
                 outcome: ReferralStatus | None) -> None:
    """What suits the person and the offers put to them, from the matcher's suggestions:
    a completed referral has at least one attended, a declined one ends declined, an open
    one has connections still under way."""
    from referrals.matching import service as matching

    connector = referral.connector
    if connector is None or referral.first_contact_at is None:
        return
    start = referral.first_contact_at
    if until <= start:
        return
    # A travel limit only for people still being helped: a closed story needs its offers.
    limit = rng.choice([None, 5.0, 10.0]) if outcome is None else None
    matching.save_preferences(
        referral, availability=rng.sample(SLOTS, rng.randint(2, 5)),
        prefers_free=rng.random() < 0.4, max_distance_km=limit,
        access_needs=["step-free"] if rng.random() < 0.2 else [], language="",
        actor=connector, now=start)
    suggestions = matching.suggestions_for(referral, today=start.date(), limit=4)
    if outcome is S.DECLINED:
        plan = [[ConnectionStatus.DECLINED]]
    elif outcome is S.COMPLETED:
        plan = [[ConnectionStatus.ACCEPTED, ConnectionStatus.ATTENDED]] + rng.sample([
            [ConnectionStatus.ACCEPTED, ConnectionStatus.DID_NOT_ATTEND],
            [ConnectionStatus.DECLINED], [ConnectionStatus.NO_CAPACITY],
            [ConnectionStatus.ACCEPTED, ConnectionStatus.ATTENDED]], rng.randint(0, 2))
    else:
        plan = rng.sample([[], [ConnectionStatus.ACCEPTED],
                           [ConnectionStatus.ACCEPTED, ConnectionStatus.ATTENDED],
                           [ConnectionStatus.ACCEPTED, ConnectionStatus.DID_NOT_ATTEND]],
                          rng.randint(1, 3))
    span = (until - start) / (len(plan) * 3 + 1)
    at = start
    for suggestion, moves in zip(suggestions, plan):
        at += span
        kind = rng.choice([ConnectionKind.SIGNPOST, ConnectionKind.REFERRAL])
        connection = matching.record_connection(
            referral, suggestion.offer, kind=kind, on=at.date(), match=suggestion.match,
            notes=rng.choice(["", "Keen to try it.", "Would like someone to go with them."]),
            actor=connector, today=at.date(), now=at)
        for status in moves:
            at += span
            matching.update_connection(connection, status=status, on=at.date(),
                                       actor=connector, today=at.date(), now=at)


def _measures(referral, rng: random.Random, *, until: datetime, follow_up: bool) -> None:
    """Wellbeing (ONS4) and loneliness (UCLA 3-item) at the first contact and, for some,
    again later: most people feel a little better, as the national evaluations found."""
    from referrals.models import CompletionMode, Timepoint
    from referrals.outcomes.service import record_measurement

    connector, start = referral.connector, referral.first_contact_at
    if connector is None or start is None or until <= start:
        return
    baseline = {"ons4": {"life_satisfaction": rng.randint(2, 5), "worthwhile": rng.randint(2, 5),
                         "happy": rng.randint(2, 5), "anxious": rng.randint(5, 9)},
                "ucla3": {"lack_companionship": rng.randint(2, 3), "left_out": rng.randint(2, 3),
                          "isolated": rng.randint(2, 3)}}
    for code, answers in baseline.items():
        record_measurement(referral, code, timepoint=Timepoint.BASELINE,
                           mode=CompletionMode.ASSISTED, completed_on=start.date(),
                           answers=answers, actor=connector, now=start)
    if not follow_up or until - start < timedelta(days=3):
        return
    later = {"ons4": {item: min(10, value + rng.randint(0, 3)) if item != "anxious"
                      else max(0, value - rng.randint(0, 3))
                      for item, value in baseline["ons4"].items()},
             "ucla3": {item: max(1, value - rng.randint(0, 1))
                       for item, value in baseline["ucla3"].items()}}
    for code, answers in later.items():
        record_measurement(referral, code, timepoint=Timepoint.FOLLOW_UP,
                           mode=rng.choice(list(CompletionMode)), completed_on=until.date(),
                           answers=answers, actor=connector, now=until)


NOTES = [
    "Talked about what matters: getting out of the house and meeting people.",
    "Interested in the walking group and the Tuesday lunch club.",
    "Went to the lunch club once; felt nervous but wants to go again.",
    "Sorting out a bus pass so they can get to the library group.",
    "Feeling brighter. Has started volunteering at the community garden.",
]
PURPOSES = [
    "Check how the first visit to the walking group went",
    "Help with the bus pass application",
    "Review goals together",
    "See whether the lunch club is still going well",
]


def _casework_before(referral, rng: random.Random, *, until: datetime, reached: bool) -> None:
    """The attempts leading up to `until`: a first contact, or three failed tries."""
    connector = referral.connector
    failures = 3 if not reached else rng.choice([0, 0, 1, 2])
    for k in range(failures, 0, -1):
        referral.contacts.append(Contact(
            at=until - timedelta(days=k, hours=rng.randint(0, 3)),
            method=ContactChannel.LETTER if not reached and k == 1 else ContactChannel.PHONE,
            outcome=rng.choice([ContactOutcome.NO_ANSWER, ContactOutcome.LEFT_MESSAGE]),
            recorded_by=connector, recorded_at=until))
    if reached:
        referral.contacts.append(Contact(
            at=until, method=ContactChannel.PHONE, outcome=ContactOutcome.SPOKE,
            duration_minutes=rng.choice([20, 30, 45]), notes=NOTES[0],
            recorded_by=connector, recorded_at=until))
        referral.first_contact_at = until  # work starts with the first contact


def _casework_since(referral, rng: random.Random, *, now: datetime, today: date) -> None:
    """Later contacts, and the next follow-up: some due today, a few overdue."""
    connector = referral.connector
    at = referral.first_contact_at
    for note in rng.sample(NOTES[1:], rng.randint(0, 3)):
        at = at + timedelta(days=rng.randint(5, 14))
        if at >= now:
            break
        referral.contacts.append(Contact(
            at=at, method=rng.choice([ContactChannel.PHONE, ContactChannel.FACE_TO_FACE]),
            outcome=ContactOutcome.SPOKE, duration_minutes=rng.choice([15, 30, 60]),
            notes=note, recorded_by=connector, recorded_at=at))
    due = today + timedelta(days=rng.choice([0, 0, -1, -4, 2, 5, 9, 14]))
    referral.follow_ups.append(FollowUp(
        due_on=due, method=rng.choice([ContactChannel.PHONE, ContactChannel.FACE_TO_FACE]),
        purpose=rng.choice(PURPOSES), status=FollowUpStatus.SCHEDULED,
        created_by_id=connector.id if connector else None, created_at=at))


def _past(now: datetime, rng: random.Random, *, recent: bool) -> datetime:
    days = rng.randint(0, 6) if recent else rng.randint(20, 120)
    day = (now - timedelta(days=days)).date()
    moment = datetime.combine(day, time(rng.randint(8, 17), rng.randrange(0, 60, 5)), UTC)
    return min(moment, now - timedelta(hours=1))


def _intake(rng: random.Random, nhs_number: str, practice: Practice, today: date,
            ethnic_category: str = ethnicity.NOT_KNOWN) -> IntakeRequest:
    sex = Sex.FEMALE if rng.random() < 0.6 else Sex.MALE
    born = date(today.year - rng.randint(19, 92), rng.randint(1, 12), rng.randint(1, 28))
    chosen = rng.sample([r for r in reasons.REASONS if r is not reasons.OTHER], rng.randint(1, 3))
    needs = []
    if rng.random() < 0.15:
        needs.append(CommunicationNeed.LARGE_PRINT.value)
    if rng.random() < 0.08:
        needs.append(CommunicationNeed.SPOKEN_INTERPRETER.value)
    risks = rng.sample(RISKS, rng.randint(1, 2)) if rng.random() < 0.4 else []
    given = rng.choice(GIVEN[sex])
    family = rng.choice(FAMILY)
    return IntakeRequest(
        person=PersonDetails(
            nhs_number=nhs_number,
            given_name=given,
            family_name=family,
            birth_date=born,
            sex=sex,
            postcode=rng.choice(STREET_POSTCODES),
            phone=f"07700 900{rng.randint(0, 999):03d}",
            email=f"{given.lower()}.{family.lower()}@example.com" if rng.random() < 0.4 else "",
            preferred_contact=rng.choice([ContactMethod.PHONE, ContactMethod.PHONE, ContactMethod.TEXT]),
            communication_needs=needs,
            interpreter_language="Polish" if CommunicationNeed.SPOKEN_INTERPRETER.value in needs else "",
            # Never asked is no answer at intake (blank), stored as 99.
            ethnic_category="" if ethnic_category == ethnicity.NOT_KNOWN else ethnic_category,
        ),
        reasons=[ReasonEntry(r.code) for r in chosen],
        practice=practice,
        consent=ConsentRecord(given=True, method=rng.choice(list(ConsentMethod))),
        what_matters=rng.choice(WHAT_MATTERS),
        risks=risks,
        no_known_risks=not risks,
        urgency=Urgency.URGENT if rng.random() < 0.1 else Urgency.ROUTINE,
        source="form",
    )


DEMO_API_CLIENT = "Kindlebury GP system (demo)"


def build_api_client() -> tuple:
    """A FHIR API client for the first demo practice; returns (client, token)."""
    from referrals.admin.service import create_api_client

    practice = db.session.scalars(select(Practice).where(Practice.ods_code == PRACTICES[0][0])).one()
    return create_api_client(DEMO_API_CLIENT, [practice], actor=None, actor_label="seed-demo")

"""The casework hub the casework benchmarks (bench/casework.py) measure: one team of
eight connectors with realistic caseloads over ~12 weeks, a coordinator, a GP and a
queue.

The hub is built through the real services (create_referral, accept_referral,
close_referral, set_availability), and the measured connector's contacts and follow-ups
through record_contact, schedule_follow_up and close_follow_up. The other connectors'
~3,500 contacts and follow-ups are written with the models, one flush per referral: through
the services they cost ~5 ms of CPU each and tripled the build.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from bench.timing import Progress
from bench.world import intake_request, nhs_numbers
from referrals import workdays, workflow
from referrals.auth.service import create_user
from referrals.caseload import service
from referrals.extensions import db
from referrals.hub.service import set_availability
from referrals.intake.service import create_referral
from referrals.models import (
    OPEN_STATUSES,
    Contact,
    ContactChannel,
    ContactOutcome,
    FollowUp,
    FollowUpStatus,
    Practice,
    Referral,
    ReferralStatus,
    Role,
    Team,
    utcnow,
)

PASSWORD = "bench-password-123"
# Seven full-time link workers at ~40 people each and one part-timer at 20: the part-timer
# gives the "20 referrals" statement count without a team of a different shape.
CASELOADS = (40,) * 7 + (20,)
CAPACITY = {40: 45, 20: 24}  # set once the hub is built, so routing has some room
CLOSED_PER_CONNECTOR = 20  # finished casework behind each connector: routing scans it too
QUEUE = 12  # received, unassigned; the older ones are past their first-contact deadline
WORKSPACE = {"contacts": 12, "follow_ups": 5}
SMALL_WORKSPACE = {"contacts": 6, "follow_ups": 2}
# Share of active referrals whose next follow-up is due today / overdue (1-7 days).
DUE_TODAY, OVERDUE = 0.15, 0.10
NOTES = ["Talked about what matters to them.", "Interested in the walking group.",
         "Went to the lunch club; wants to go again.", "Sorting out a bus pass.",
         "Feeling brighter; started volunteering at the garden."]
PURPOSES = ["Check how the walking group went", "Help with the bus pass application",
            "Review goals together", "See whether the lunch club is still going well"]
METHODS = [ContactChannel.PHONE] * 4 + [ContactChannel.FACE_TO_FACE, ContactChannel.HOME_VISIT,
                                        ContactChannel.VIDEO]


@dataclass
class Hub:
    team_id: int
    emails: dict[int, str]
    full_id: int  # a connector holding 40 active referrals
    part_id: int  # the part-timer holding 20
    workspace_id: int  # 12 contacts, 5 follow-ups
    small_workspace_id: int  # 6 contacts, 2 follow-ups
    now: datetime
    today: date
    stats: dict



def build_hub(app: Flask, *, seed: int = 2026) -> Hub:
    """Eight connectors with realistic caseloads over ~12 weeks, a coordinator, a queue."""
    rng = random.Random(seed)
    numbers = nhs_numbers(start=500_000)  # clear of the FHIR world's people
    started = time.perf_counter()
    with app.app_context():
        now = utcnow()
        today = workdays.uk_date(now)
        team = Team(name="Bench Casework Hub", first_contact_days=5, follow_up_grace_days=2)
        practices = [Practice(ods_code=f"C2000{i}", name=f"Casework Practice {i}",
                              postcode="LS1 4AP", team=team) for i in range(3)]
        db.session.add_all([team, *practices])
        db.session.flush()
        referrer = create_user(email="gp@casework.example", name="Dr Sam Reid",
                               role=Role.REFERRER, password=PASSWORD, practice=practices[0])
        coordinator = create_user(email="coordinator@casework.example", name="Hub Coordinator",
                                  role=Role.COORDINATOR, password=PASSWORD, team=team)
        # No capacity yet, so routing leaves every new referral in the team queue and
        # each connector takes theirs from it with accept_referral, as the triage queue does.
        connectors = [create_user(email=f"caseworker{i}@casework.example",
                                  name=f"Caseworker {i}", role=Role.CONNECTOR,
                                  password=PASSWORD, team=team)
                      for i in range(len(CASELOADS))]
        db.session.commit()
        total = sum(CASELOADS) + CLOSED_PER_CONNECTOR * len(connectors) + QUEUE
        progress = Progress("building the casework hub", total)
        done = 0
        special = {}
        for c, (connector, size) in enumerate(zip(connectors, CASELOADS, strict=True)):
            for j in range(CLOSED_PER_CONNECTOR):
                created = _at(now - timedelta(days=rng.randint(100, 200)), rng)
                referral = _referral(next(numbers), practices, done, referrer, created)
                _casework(referral, connector, rng, now=created + timedelta(days=70),
                          contacts=rng.randint(6, 12), follow_ups=rng.randint(1, 3))
                service.close_referral(
                    referral, "completed" if j % 5 else "declined", actor=connector,
                    note="Closing: goals reached" if j % 5 else "They no longer want support",
                    now=created + timedelta(days=71))
                done += 1
                progress.update(done)
            for j in range(size):
                shape = (WORKSPACE if j == 0 else SMALL_WORKSPACE if j == 1 else None
                         ) if c == 0 else None
                age = 84 if shape else rng.randint(14, 84)  # 6-12 contacts over ~12 weeks
                created = _at(now - timedelta(days=age), rng)
                referral = _referral(next(numbers), practices, done, referrer, created)
                _casework(referral, connector, rng, now=now,
                          contacts=shape["contacts"] if shape else rng.randint(6, 12),
                          follow_ups=shape["follow_ups"] if shape else rng.randint(2, 4),
                          next_due=_next_due(today, rng), real=c == 0)
                if shape:
                    special[shape is WORKSPACE] = referral.id
                done += 1
                progress.update(done)
            # One commit per connector: on SQLite every commit waits for the disk.
            db.session.commit()
        for j in range(QUEUE):
            created = _at(now - timedelta(days=j), rng)
            _referral(next(numbers), practices, done, referrer, min(created, now))
            done += 1
            progress.update(done)
        for connector, size in zip(connectors, CASELOADS, strict=True):
            set_availability(connector, actor=coordinator, capacity=CAPACITY[size])
        db.session.commit()
        progress.done()
        stats = _stats(team.id)
        stats["build_s"] = round(time.perf_counter() - started, 1)
        hub = Hub(team.id, {u.id: u.email for u in connectors},
                  connectors[0].id, connectors[-1].id, special[True], special[False],
                  now, today, stats)
    return hub


def _at(day: datetime, rng: random.Random) -> datetime:
    """A moment in working hours (UTC) on `day`'s date."""
    return day.replace(hour=rng.randint(8, 16), minute=rng.randrange(0, 60, 5), second=0,
                       microsecond=0)


def _referral(nhs: str, practices: list[Practice], i: int, referrer, created: datetime):
    return create_referral(intake_request(nhs, practices[i % len(practices)], i),
                           actor=referrer, now=created)


def _next_due(today: date, rng: random.Random) -> date:
    """The open follow-up: a realistic share due today or overdue, the rest ahead."""
    draw = rng.random()
    if draw < DUE_TODAY:
        return today
    if draw < DUE_TODAY + OVERDUE:
        return today - timedelta(days=rng.randint(1, 7))
    return today + timedelta(days=rng.randint(1, 21))


def _casework(referral: Referral, connector, rng: random.Random, *, now: datetime,
              contacts: int, follow_ups: int, next_due: date | None = None,
              real: bool = False) -> None:
    """Accept, then `contacts` contacts spread up to `now` (the first one or two may miss),
    then past follow-ups (done or missed) and, with `next_due`, one still scheduled.

    With `real` every contact and follow-up goes through its service (a flush and an audit
    event each: ~5 ms of CPU). Otherwise the same rows are written with the models and
    flushed once, with the one rule the pages read (the first contact that reaches the
    person sets first_contact_at and moves the referral to in progress).
    """
    accepted = referral.created_at + timedelta(hours=rng.randint(2, 30))
    service.accept_referral(referral, actor=connector, now=accepted)
    span = (now - timedelta(hours=2) - accepted).total_seconds()
    times = sorted(accepted + timedelta(seconds=rng.uniform(600, span)) for _ in range(contacts))
    misses = rng.choice([0, 0, 1, 2])
    for k, at in enumerate(times):
        outcome = (rng.choice([ContactOutcome.NO_ANSWER, ContactOutcome.LEFT_MESSAGE])
                   if k < misses else ContactOutcome.SPOKE)
        fields = {"at": at, "method": rng.choice(METHODS), "outcome": outcome,
                  "duration_minutes": rng.choice([10, 20, 30, 45, 60]) if outcome.reached
                  else None, "notes": rng.choice(NOTES) if outcome.reached else ""}
        if real:
            service.record_contact(referral, actor=connector, now=at + timedelta(minutes=5),
                                   **fields)
            continue
        referral.contacts.append(Contact(**fields, recorded_by=connector,
                                         recorded_at=at + timedelta(minutes=5)))
        if outcome.reached and referral.first_contact_at is None:
            referral.first_contact_at = at
            workflow.transition(referral, ReferralStatus.IN_PROGRESS, actor=connector,
                                reason="First contact made", now=at + timedelta(minutes=5))
    past = follow_ups - (1 if next_due else 0)
    # Past follow-ups: each set at one of the later contacts (from before yesterday), due a
    # few days on but before today, and since closed.
    yesterday = workdays.uk_date(now) - timedelta(days=1)
    chances = [at for at in times[misses:] if workdays.uk_date(at) < yesterday]
    for at in sorted(rng.sample(chances, min(past, len(chances)))):
        set_on = workdays.uk_date(at)
        due = min(set_on + timedelta(days=rng.randint(2, 9)), yesterday)
        missed = rng.random() < 0.15
        status = FollowUpStatus.MISSED if missed else FollowUpStatus.DONE
        note = "No answer; will try again" if missed else ""
        closed = min(datetime.combine(due, at.timetz()) + timedelta(hours=1), now)
        fields = {"due_on": due, "method": rng.choice(METHODS),
                  "purpose": rng.choice(PURPOSES)}
        if real:
            follow_up = service.schedule_follow_up(referral, actor=connector, today=set_on,
                                                   now=at + timedelta(minutes=6), **fields)
            service.close_follow_up(referral, follow_up, actor=connector, status=status,
                                    note=note, now=closed)
        else:
            referral.follow_ups.append(FollowUp(
                **fields, status=status, created_by_id=connector.id,
                created_at=at + timedelta(minutes=6), closed_at=closed, outcome_note=note))
    if next_due:
        last = times[-1]
        fields = {"due_on": next_due, "method": rng.choice(METHODS),
                  "purpose": rng.choice(PURPOSES)}
        if real:
            service.schedule_follow_up(referral, actor=connector, now=last + timedelta(minutes=6),
                                       today=min(workdays.uk_date(last), next_due), **fields)
        else:
            referral.follow_ups.append(FollowUp(
                **fields, status=FollowUpStatus.SCHEDULED, created_by_id=connector.id,
                created_at=last + timedelta(minutes=6)))
    if not real:
        referral.version += contacts + follow_ups  # as the services' _touch would
        referral.updated_at = times[-1] + timedelta(minutes=6)
        db.session.flush()


def _stats(team_id: int) -> dict:
    in_team = select(Referral.id).where(Referral.team_id == team_id).scalar_subquery()

    def count(what, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(what).where(*where)) or 0

    return {
        "built_with": "services: create_referral, accept_referral, close_referral, "
                      "set_availability; record_contact, schedule_follow_up and "
                      "close_follow_up for the measured connector's caseload, the models "
                      "(one flush per referral) for the other contacts and follow-ups",
        "connectors": len(CASELOADS),
        "caseloads": list(CASELOADS),
        "referrals_in_team": count(Referral, Referral.team_id == team_id),
        "open_referrals": count(Referral, Referral.team_id == team_id,
                                Referral.status.in_(OPEN_STATUSES)),
        "contacts": count(Contact, Contact.referral_id.in_(in_team)),
        "follow_ups": count(FollowUp, FollowUp.referral_id.in_(in_team)),
        "follow_ups_scheduled": count(FollowUp, FollowUp.referral_id.in_(in_team),
                                      FollowUp.status == FollowUpStatus.SCHEDULED),
    }

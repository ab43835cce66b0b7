"""One referral's story, planned before a row is written: how it arrived, how long triage
took, the attempts to reach the person, the casework, the offers they were put in touch
with, their outcome measures, and how it ended. Nothing after `now` happens: a story
that has not ended by then is still open, in the status it had reached.

Every move follows the state machine (referrals/workflow.py) the way the services make
it: accepted by a connector, in progress at the first contact that reaches the person
(caseload.service.record_contact), unable to contact only after the team's attempts.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from referrals import reasons, workdays
from referrals.directory import vocabulary
from referrals.generate import measures
from referrals.models import (
    ConnectionStatus,
    ContactChannel,
    ContactOutcome,
    FollowUpStatus,
    ReferralStatus,
    Timepoint,
    UnmetReason,
)

S = ReferralStatus
C = ConnectionStatus

SOURCES = (("form", 72), ("fhir", 18), ("self", 10))
# How often each reason is given (loneliness and isolation lead, as in the evaluations).
REASON_WEIGHTS = {
    "social-isolation": 24, "loneliness": 22, "low-mood": 14, "bereavement": 8,
    "long-term-condition": 9, "carer-support": 5, "physical-activity": 6, "money-debt": 5,
    "housing": 3, "employment-volunteering": 3, "other": 2,
}
OTHER_DETAILS = ["Digital exclusion", "Hoarding", "Recently moved to the area",
                 "Transport to appointments"]
UNMET_WEIGHTS = {UnmetReason.NONE_NEARBY: 30, UnmetReason.FULL: 20, UnmetReason.WRONG_TIME: 15,
                 UnmetReason.COST: 12, UnmetReason.ACCESS: 13, UnmetReason.LANGUAGE: 10}
REJECT_REASON = "Needs are clinical; referred back to the GP."
CANCEL_REASON = "The patient moved out of the area before contact."
CLOSING_NOTES = {
    S.COMPLETED: "Goals met: going to groups each week.",
    S.DECLINED: "Said they would rather not take part at the moment.",
    S.UNABLE_TO_CONTACT: "Three attempts and a letter, no reply.",
}
DAY_START, DAY_END = time(8, 30), time(17, 0)
RECENT_PRESSURE = timedelta(days=56)


@dataclass
class Step:
    at: datetime
    to: ReferralStatus
    by: str  # "connector", "referrer" (the practice: a user, or its GP system)
    reason: str = ""


@dataclass
class ContactPlan:
    at: datetime
    method: ContactChannel
    outcome: ContactOutcome
    minutes: int | None


@dataclass
class FollowUpPlan:
    due_on: date
    method: ContactChannel
    created_at: datetime
    status: FollowUpStatus = FollowUpStatus.SCHEDULED
    closed_at: datetime | None = None
    replaces: int | None = None  # index of the follow-up this one replaced


@dataclass
class ConnectionPlan:
    category: str
    kind: str
    score: float
    moves: list[tuple[datetime, ConnectionStatus]]  # the first is how it started


@dataclass
class MeasurePlan:
    instrument: str
    timepoint: Timepoint
    mode: str
    at: datetime
    answers: dict


@dataclass
class UnmetPlan:
    category: str
    reason: UnmetReason
    at: datetime
    met_at: datetime | None


@dataclass
class Plan:
    created: datetime
    source: str
    urgency: str
    reasons: list[tuple[str, str]]  # (code, detail)
    queued: bool  # nobody had room: it waited in the team queue until accepted
    steps: list[Step] = field(default_factory=list)
    contacts: list[ContactPlan] = field(default_factory=list)
    follow_ups: list[FollowUpPlan] = field(default_factory=list)
    connections: list[ConnectionPlan] = field(default_factory=list)
    measures: list[MeasurePlan] = field(default_factory=list)
    unmet: list[UnmetPlan] = field(default_factory=list)
    first_contact_at: datetime | None = None

    @property
    def status(self) -> ReferralStatus:
        return self.steps[-1].to if self.steps else S.RECEIVED

    @property
    def closed_at(self) -> datetime | None:
        return None if self.status.is_open else self.steps[-1].at


def at_work(day: date, rng: random.Random, *, after: datetime | None = None) -> datetime:
    """A moment in working hours (UK time) on `day`, later than `after` if given."""
    while not workdays.is_working_day(day):
        day += timedelta(days=1)
    minutes = rng.randrange(DAY_START.hour * 60 + DAY_START.minute,
                            DAY_END.hour * 60 + DAY_END.minute)
    local = datetime.combine(day, time(minutes // 60, minutes % 60), workdays.UK)
    moment = local.astimezone(UTC)
    if after is not None and moment <= after:
        moment = after + timedelta(minutes=rng.randint(5, 90))
    return moment


def later(moment: datetime, working_days: int, rng: random.Random) -> datetime:
    day = workdays.add_working_days(workdays.uk_date(moment), working_days)
    return at_work(day, rng, after=moment)


def plan(rng: random.Random, created: datetime, now: datetime) -> Plan:
    if workdays.is_working_day(workdays.uk_date(created)):
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
    else:
        source = "self"  # practices are closed: only the person could have sent it
    # Lately the team has been full more often, so more wait in its queue: the
    # coordinator's "waiting past the target" has people in it.
    busy = now - created < RECENT_PRESSURE
    p = Plan(created=created, source=source,
             urgency="urgent" if rng.random() < 0.08 else "routine",
             reasons=_reasons(rng), queued=rng.random() < (0.35 if busy else 0.15))
    # Triage: most the same or the next working day; a tail when the team is stretched.
    # One waiting in the team queue (nobody had room) waits longer.
    triage = later(created, rng.choices([5, 10, 15, 20, 30], [30, 25, 20, 15, 10])[0]
                   if p.queued else rng.choices([0, 1, 2, 3, 5, 8, 12, 20],
                                                [30, 28, 15, 10, 7, 5, 3, 2])[0], rng)
    if triage > now:
        return p
    roll = rng.random()
    if roll < 0.035:
        p.steps.append(Step(triage, S.REJECTED, "connector", REJECT_REASON))
        return p
    if roll < 0.06 and source != "self":
        p.steps.append(Step(triage, S.CANCELLED, "referrer", CANCEL_REASON))
        return p
    p.steps.append(Step(triage, S.ACCEPTED, "connector"))
    _reach(p, rng, triage, now)
    return p


def _reasons(rng: random.Random) -> list[tuple[str, str]]:
    codes = list(REASON_WEIGHTS)
    chosen: list[str] = []
    for _ in range(rng.choices([1, 2, 3], [45, 40, 15])[0]):
        code = rng.choices(codes, list(REASON_WEIGHTS.values()))[0]
        if code not in chosen:
            chosen.append(code)
    return [(code, rng.choice(OTHER_DETAILS) if code == reasons.OTHER.code else "")
            for code in chosen]


def _attempt(p: Plan, at: datetime, rng: random.Random, *, letter: bool = False) -> None:
    p.contacts.append(ContactPlan(
        at, ContactChannel.LETTER if letter else ContactChannel.PHONE,
        rng.choices([ContactOutcome.NO_ANSWER, ContactOutcome.LEFT_MESSAGE,
                     ContactOutcome.WRONG_NUMBER], [50, 45, 5])[0], None))


def _reach(p: Plan, rng: random.Random, at: datetime, now: datetime) -> None:
    """The attempts to reach the person, then the first contact (or giving up)."""
    reached = rng.random() < 0.9
    failures = rng.choices([3, 4], [70, 30])[0] if not reached else \
        rng.choices([0, 1, 2, 3], [55, 25, 14, 6])[0]
    at = at + timedelta(minutes=rng.randint(10, 240))
    for k in range(failures):
        if at > now:
            return
        _attempt(p, at, rng, letter=not reached and k == failures - 1)
        at = later(at, rng.choice([1, 1, 2, 3]), rng)
    if not reached:
        close = later(at, rng.randint(3, 8), rng)
        if close <= now:
            p.steps.append(Step(close, S.UNABLE_TO_CONTACT, "connector",
                                CLOSING_NOTES[S.UNABLE_TO_CONTACT]))
        return
    if at > now:
        return
    declines = rng.random() < 0.05
    p.contacts.append(ContactPlan(
        at, rng.choices([ContactChannel.PHONE, ContactChannel.FACE_TO_FACE], [80, 20])[0],
        ContactOutcome.DECLINED if declines else ContactOutcome.SPOKE,
        rng.choice([15, 20, 30, 45, 60])))
    p.first_contact_at = at
    p.steps.append(Step(at, S.IN_PROGRESS, "connector", "First contact made"))
    if declines:
        p.steps.append(Step(at + timedelta(minutes=rng.randint(2, 20)), S.DECLINED,
                            "connector", CLOSING_NOTES[S.DECLINED]))
        return
    _casework(p, rng, at, now)


def _casework(p: Plan, rng: random.Random, start: datetime, now: datetime) -> None:
    """Weeks of work after the first contact: contacts, follow-ups, connections, measures,
    and its ending (unless that would be after `now`)."""
    days = min(240.0, max(14.0, rng.lognormvariate(math.log(56), 0.5)))
    end = later(start, round(days * 5 / 7), rng)
    # Unable to contact is only for someone never reached (caseload.closings_offered):
    # a person who stops answering later is closed as declined.
    ending = rng.choices([S.COMPLETED, S.DECLINED], [90, 10])[0]
    drifts = ending is S.DECLINED and rng.random() < 0.5
    until = min(end, now)
    today = workdays.uk_date(now)

    visits = rng.randint(4, 10)
    for k in range(1, visits + 1):
        at = at_work(workdays.uk_date(start + (end - start) * k / (visits + 1)), rng,
                     after=start)
        if at > until:
            break
        lost = drifts and k > visits - 2
        p.contacts.append(ContactPlan(
            at, rng.choices(list(ContactChannel), [55, 27, 4, 8, 4, 1, 1])[0]
            if not lost else ContactChannel.PHONE,
            ContactOutcome.NO_ANSWER if lost else
            rng.choices([ContactOutcome.SPOKE, ContactOutcome.NO_ANSWER,
                         ContactOutcome.LEFT_MESSAGE], [85, 8, 7])[0],
            None if lost else rng.choice([15, 20, 30, 45, 60, 90])))

    _follow_ups(p, rng, start, end, until, today, open_=end > now)
    _connections(p, rng, start, end, until, ending)
    _measures(p, rng, start, end, until, ending)
    if rng.random() < 0.05:
        codes = sorted(vocabulary.categories_for_reasons(code for code, _ in p.reasons)) \
            or [c.code for c in vocabulary.CATEGORIES]
        at = at_work(workdays.uk_date(start + (end - start) / 3), rng, after=start)
        if at <= until:
            met = later(at, rng.randint(10, 60), rng) if rng.random() < 0.25 else None
            p.unmet.append(UnmetPlan(rng.choice(codes), rng.choices(
                list(UNMET_WEIGHTS), list(UNMET_WEIGHTS.values()))[0], at,
                met if met is not None and met <= until else None))
    if end <= now:
        p.steps.append(Step(end, ending, "connector", CLOSING_NOTES[ending]))


def _follow_ups(p: Plan, rng: random.Random, start: datetime, end: datetime,
                until: datetime, today: date, *, open_: bool) -> None:
    """Follow-ups spread over the work: done, missed or rescheduled (the replacement
    linked to the one it replaced). An open story has its next one scheduled, and now
    and then one overdue; a closed one has none left open."""
    count = rng.choices([1, 2, 3, 4, 5, 6], [8, 15, 25, 25, 17, 10])[0]
    made = start
    for k in range(1, count + 1):
        due = workdays.uk_date(start + (end - start) * k / (count + 1)) + timedelta(days=1)
        method = rng.choices([ContactChannel.PHONE, ContactChannel.FACE_TO_FACE], [65, 35])[0]
        current = FollowUpPlan(due, method, made)
        while True:
            moment = at_work(current.due_on, rng, after=made)
            if moment > until:
                # Still to come (or due today): only an open story keeps it.
                if open_:
                    p.follow_ups.append(current)
                return
            p.follow_ups.append(current)
            if open_ and today - current.due_on <= timedelta(days=5) and rng.random() < 0.3:
                return  # due in the last few days and not done yet: overdue
            roll = rng.random()
            if roll < 0.15 and current.replaces is None:
                current.status, current.closed_at = FollowUpStatus.RESCHEDULED, moment
                made = moment
                current = FollowUpPlan(current.due_on + timedelta(days=rng.randint(3, 7)),
                                       method, moment, replaces=len(p.follow_ups) - 1)
                continue
            current.status = FollowUpStatus.MISSED if roll > 0.9 else FollowUpStatus.DONE
            current.closed_at = made = moment
            break


def _connections(p: Plan, rng: random.Random, start: datetime, end: datetime,
                 until: datetime, ending: ReferralStatus) -> None:
    count = rng.choices([1, 2, 3, 4, 5, 6, 7, 8], [8, 15, 22, 20, 15, 10, 6, 4])[0]
    wanted = sorted(vocabulary.categories_for_reasons(code for code, _ in p.reasons))
    # Reaching at least one activity: most completed stories, fewer of the others.
    attends = rng.random() < (0.56 if ending is S.COMPLETED else 0.15)
    span = (end - start) * 0.6
    for k in range(count):
        made = start + span * k / count + timedelta(hours=rng.randint(1, 48))
        if made > until:
            return
        if k == 0 and attends:
            final = C.ATTENDED
        else:
            final = rng.choices([C.DID_NOT_ATTEND, C.DECLINED, C.NO_CAPACITY, C.WITHDRAWN,
                                 C.ATTENDED], [22, 25, 15, 8, 15 if attends else 0])[0]
        category = rng.choice(wanted) if wanted and rng.random() < 0.85 else \
            rng.choice(vocabulary.CATEGORIES).code
        moves = [(made, C.SUGGESTED)]
        if final in (C.ATTENDED, C.DID_NOT_ATTEND) or (
                final in (C.DECLINED, C.NO_CAPACITY) and rng.random() < 0.4):
            moves.append((made + timedelta(days=rng.randint(1, 7)), C.ACCEPTED))
        moves.append((moves[-1][0] + timedelta(days=rng.randint(5, 21)), final))
        if final is C.DID_NOT_ATTEND and rng.random() < 0.1:
            moves.append((moves[-1][0] + timedelta(days=7), C.ATTENDED))
        p.connections.append(ConnectionPlan(
            category, rng.choice(["signpost", "referral"]), round(rng.uniform(0.35, 0.95), 3),
            [(at, status) for at, status in moves if at <= until]))


def _measures(p: Plan, rng: random.Random, start: datetime, end: datetime,
              until: datetime, ending: ReferralStatus) -> None:
    if rng.random() > 0.92:
        return
    first = start if rng.random() < 0.7 else at_work(
        workdays.uk_date(start) + timedelta(days=rng.randint(5, 14)), rng, after=start)
    if first > until:
        return
    finished = end <= until
    if finished:
        follow = ending is S.COMPLETED and rng.random() < 0.85 or rng.random() < 0.2
        last = end - timedelta(hours=rng.randint(1, 72))
    else:
        follow = until - first > timedelta(days=42) and rng.random() < 0.35
        last = until - timedelta(days=rng.randint(1, 20))
    follow = follow and last > first
    for code in measures.choose_instruments(rng):
        before = measures.baseline(code, rng)
        p.measures.append(MeasurePlan(code, Timepoint.BASELINE,
                                      rng.choices(["assisted", "self"], [70, 30])[0],
                                      first, before))
        if follow:
            p.measures.append(MeasurePlan(
                code, Timepoint.CLOSING if finished and rng.random() < 0.3
                else Timepoint.FOLLOW_UP, rng.choice(["assisted", "self"]), last,
                measures.follow_up(code, before, rng)))

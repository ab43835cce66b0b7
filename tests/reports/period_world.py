"""A small hand-built world for the period report, at fixed times, so every figure can be
worked out by hand in the tests (tests/reports/test_period_report.py says how).

The period is 1 April to 30 June 2026, all in British Summer Time: the period starts at
2026-03-31 23:00 UTC and ends before 2026-06-30 23:00 UTC.

Practice "Kindlebury Surgery" (PCN "Kindle PCN"), referrals received in the period:

ref  received (UK)   sex  born        eth  postcode  reasons     urg  source  first contact   due    status at end
R1   01/04 09:00     F    1960-06-15  A    KB1 1AA   lone+bere   r    form    03/04 (2d)      08/04  completed
R2   02/04           F    "           A    KB1       lone+bere   r    form    02/04 (0d)      09/04  completed
R3   06/04           F    "           A    KB1       lone+bere   r    form    10/04 (4d)      13/04  completed
R4   07/04           F    "           A    KB1       lone        u    form    17/04 (10d) late 14/04  completed
R5   13/04           F    "           A    KB1       lone        r    form    16/04 (3d)      20/04  completed
R6   14/04           F    "           A    KB1       lone        r    form    21/04 (7d)      21/04  declined
R7   01/05           F    "           Z    KB2 2BB   lone        r    self    20/05 (19d) late 08/05  in progress
R8   05/05           M    "           99   KB2       lone        r    self    15/05 (10d) late 12/05  in progress (completed 05/07)
R9   01/06           M    "           99   KB2       lone        r    self    12/06 (11d) late 08/06  accepted
R10  10/06           M    1940-01-01  99   KB2       lone        u    self    none, target passed 17/06  received
R11  01/04 00:30     M    1951-04-01  99   KB2       lone        r    self    02/04 23:30 (1d)  08/04  in progress
R12  29/06           M    1940-01-01  99   KB2       lone        r    form    none, due 06/07   received

R11 arrives at 2026-03-31 23:30 UTC (00:30 on 1 April, UK) and is first contacted at
2026-04-02 22:30 UTC (23:30 on 2 April, UK): 1 UK day (2 UTC days), due 08/04, within.
Its person turns 75 on 1 April (UK), so is 75 at referral (74 by the UTC date).
Not received in the period: R0 at 2026-03-31 22:30 UTC (31 March UK) and R13 at
2026-06-30 23:10 UTC (1 July UK), and one referral of another practice of the hub.

Closed in the period but received before it: O1 to O5 (F, born 1960, A, KB1 1AA).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from referrals.directory import vocabulary
from referrals.models import (
    CompletionMode,
    Connection,
    ConnectionEvent,
    ConnectionKind,
    ConnectionStatus,
    ConsentGivenBy,
    ConsentMethod,
    Contact,
    ContactChannel,
    ContactOutcome,
    Measurement,
    Offer,
    OfferAttribute,
    Patient,
    PostcodeDeprivation,
    Referral,
    ReferralEvent,
    ReferralReason,
    Sex,
    TaxonomyTerm,
    Timepoint,
    UnmetNeed,
    UnmetReason,
    Urgency,
)
from referrals.models import (
    ReferralStatus as S,
)
from referrals.scopes import Period

PERIOD = Period(date(2026, 4, 1), date(2026, 6, 30))
_ids = itertools.count(1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def bst(text: str) -> datetime:
    """A UK summer time wall clock as UTC (BST is UTC+1)."""
    return datetime.fromisoformat(text + "+01:00").astimezone(UTC)


PATH = {S.RECEIVED: [], S.ACCEPTED: [S.ACCEPTED], S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS],
        S.COMPLETED: [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
        S.DECLINED: [S.ACCEPTED, S.IN_PROGRESS, S.DECLINED]}


@dataclass
class World:
    practice: object
    other_practice: object
    team: object
    walk: Offer
    lunch: Offer
    refs: dict = field(default_factory=dict)


class Writer:
    def __init__(self, session, make):
        self.session, self.make = session, make

    def referral(self, practice, at: datetime, *, sex=Sex.FEMALE, born=date(1960, 6, 15),
                 ethnic="A", postcode="KB1 1AA", reasons=("loneliness",),
                 urgency=Urgency.ROUTINE, source="form", contact: datetime | None = None,
                 due: date | None = None, status=S.RECEIVED, closed: datetime | None = None,
                 later: tuple = ()) -> Referral:
        """A referral received at `at`, moved along its path (the last step at `closed`,
        or a day after it arrived), plus `later` (status, when) steps."""
        n = next(_ids)
        patient = Patient(nhs_number=self.make.nhs_number(), given_name="Test",
                          family_name=f"Person {n}", birth_date=born, sex=sex,
                          postcode=postcode, ethnic_category=ethnic, practice_id=practice.id)
        referral = Referral(
            reference=f"KND-T-{n:06d}", patient=patient, practice_id=practice.id,
            team_id=practice.team_id, urgency=urgency, source=source,
            consent_given_by=ConsentGivenBy.PERSON, consent_method=ConsentMethod.WRITTEN,
            consent_at=at, status=status, created_at=at, updated_at=at,
            first_contact_at=contact, first_contact_due=due)
        referral.reasons = [ReferralReason(code=code) for code in reasons]
        self.session.add(referral)
        self.session.flush()
        self.event(referral, at, None, S.RECEIVED)
        previous = S.RECEIVED
        path = PATH[status]
        for i, step in enumerate(path):
            when = closed if (closed and i == len(path) - 1) else at.replace(hour=12) \
                if i == 0 else (contact or at)
            self.event(referral, max(when, at), previous, step)
            previous = step
        for step, when in later:
            self.event(referral, when, previous, step)
            previous = step
            referral.status = step
        self.session.flush()
        return referral

    def event(self, referral, at, from_status, to_status):
        self.session.add(ReferralEvent(referral_id=referral.id, at=at, from_status=from_status,
                                       to_status=to_status, kind="status"))

    def contacts(self, referral, *times: datetime):
        for at in times:
            self.session.add(Contact(referral_id=referral.id, at=at,
                                     method=ContactChannel.PHONE,
                                     outcome=ContactOutcome.SPOKE))

    def connection(self, referral, offer, *steps: tuple[ConnectionStatus, datetime]):
        created = steps[0][1]
        connection = Connection(referral_id=referral.id, offer_id=offer.id,
                                kind=ConnectionKind.SIGNPOST, status=steps[-1][0],
                                created_at=created, updated_at=steps[-1][1])
        self.session.add(connection)
        self.session.flush()
        previous = None
        for status, at in steps:
            self.session.add(ConnectionEvent(connection_id=connection.id, at=at,
                                             from_status=previous, to_status=status))
            previous = status

    def measure(self, referral, instrument, timepoint, on: date, **scores):
        self.session.add(Measurement(
            referral_id=referral.id, instrument=instrument, timepoint=timepoint,
            mode=CompletionMode.SELF, completed_on=on, answers={}, scores=scores))

    def offer(self, name: str, category: str) -> Offer:
        term = self.session.get(TaxonomyTerm, vocabulary.CATEGORY_BY_CODE[category].id)
        if term is None:
            term = TaxonomyTerm(id=vocabulary.CATEGORY_BY_CODE[category].id, code=category,
                                name=vocabulary.CATEGORY_BY_CODE[category].name)
            self.session.add(term)
        offer = Offer(id=f"offer-{next(_ids)}", name=name, languages=[])
        offer.attributes.append(OfferAttribute(id=f"attr-{next(_ids)}", term=term))
        self.session.add(offer)
        self.session.flush()
        return offer


def build_world(session, make, *, deprivation: bool) -> World:
    team = make.team(name="Kindle Hub", first_contact_days=5)
    practice = make.practice(team, name="Kindlebury Surgery", pcn_name="Kindle PCN")
    other = make.practice(team, name="Otherton Surgery", pcn_name="Other PCN")
    w = Writer(session, make)
    world = World(practice, other, team, w.offer("Walking group", "physical-activity"),
                  w.offer("Lunch club", "food-lunch-clubs"))
    r = world.refs
    bere = ("loneliness", "bereavement")
    r[1] = w.referral(practice, bst("2026-04-01 09:00"), reasons=bere,
                      contact=bst("2026-04-03 10:00"), due=date(2026, 4, 8),
                      status=S.COMPLETED, closed=bst("2026-05-20 10:00"))
    r[2] = w.referral(practice, bst("2026-04-02 09:00"), reasons=bere,
                      contact=bst("2026-04-02 15:00"), due=date(2026, 4, 9),
                      status=S.COMPLETED, closed=bst("2026-05-21 10:00"))
    r[3] = w.referral(practice, bst("2026-04-06 09:00"), reasons=bere,
                      contact=bst("2026-04-10 10:00"), due=date(2026, 4, 13),
                      status=S.COMPLETED, closed=bst("2026-05-22 10:00"))
    r[4] = w.referral(practice, bst("2026-04-07 09:00"), urgency=Urgency.URGENT,
                      contact=bst("2026-04-17 10:00"), due=date(2026, 4, 14),
                      status=S.COMPLETED, closed=bst("2026-06-01 10:00"))
    r[5] = w.referral(practice, bst("2026-04-13 09:00"), contact=bst("2026-04-16 10:00"),
                      due=date(2026, 4, 20), status=S.COMPLETED, closed=bst("2026-06-02 10:00"))
    r[6] = w.referral(practice, bst("2026-04-14 09:00"), contact=bst("2026-04-21 16:00"),
                      due=date(2026, 4, 21), status=S.DECLINED, closed=bst("2026-04-22 10:00"))
    kb2 = {"postcode": "KB2 2BB", "source": "self"}
    r[7] = w.referral(practice, bst("2026-05-01 09:00"), ethnic="Z", **kb2,
                      contact=bst("2026-05-20 10:00"), due=date(2026, 5, 8),
                      status=S.IN_PROGRESS)
    men = dict(sex=Sex.MALE, ethnic="99", **kb2)
    r[8] = w.referral(practice, bst("2026-05-05 09:00"), **men,
                      contact=bst("2026-05-15 10:00"), due=date(2026, 5, 12),
                      status=S.IN_PROGRESS, later=((S.COMPLETED, bst("2026-07-05 10:00")),))
    r[9] = w.referral(practice, bst("2026-06-01 09:00"), **men,
                      contact=bst("2026-06-12 10:00"), due=date(2026, 6, 8), status=S.ACCEPTED)
    old = {"born": date(1940, 1, 1)}
    r[10] = w.referral(practice, bst("2026-06-10 09:00"), **men, **old, urgency=Urgency.URGENT,
                       due=date(2026, 6, 17))
    r[11] = w.referral(practice, utc("2026-03-31 23:30"), **men, born=date(1951, 4, 1),
                       contact=utc("2026-04-02 22:30"), due=date(2026, 4, 8),
                       status=S.IN_PROGRESS)
    # R11 stays in progress: the status table then has received 2, accepted 1, in progress 3.
    r[12] = w.referral(practice, bst("2026-06-29 09:00"), **{**men, "source": "form"}, **old,
                       due=date(2026, 7, 6))
    # Outside the period or the practice.
    r[0] = w.referral(practice, utc("2026-03-31 22:30"), due=date(2026, 4, 7))
    r[13] = w.referral(practice, utc("2026-06-30 23:10"), due=date(2026, 7, 7))
    r["other"] = w.referral(other, bst("2026-05-01 09:00"), due=date(2026, 5, 8))
    # Received before the period, closed in it.
    for i, attended in zip(range(1, 6), (True, True, False, False, False)):
        r[f"O{i}"] = w.referral(practice, bst(f"2026-02-0{i} 09:00").replace(hour=10),
                                contact=bst(f"2026-02-0{i + 1} 10:00"), due=date(2026, 2, 10),
                                status=S.COMPLETED, closed=bst(f"2026-04-2{i} 10:00"))

    # Contacts, all but one within the period: 3+2+4+1+2+1 + 2+2+1+0+3 = 21 for the closed.
    w.contacts(r[1], bst("2026-04-03 10:00"), bst("2026-04-10 10:00"),
               bst("2026-04-20 10:00"), bst("2026-07-02 10:00"))
    w.contacts(r[2], bst("2026-04-02 15:00"), bst("2026-04-15 10:00"))
    w.contacts(r[3], *[bst(f"2026-04-1{d} 10:00") for d in range(4)])
    w.contacts(r[4], bst("2026-04-17 10:00"))
    w.contacts(r[5], bst("2026-04-16 10:00"), bst("2026-04-25 10:00"))
    w.contacts(r[6], bst("2026-04-21 16:00"))
    w.contacts(r["O1"], bst("2026-02-02 10:00"), bst("2026-03-02 10:00"))
    w.contacts(r["O2"], bst("2026-02-03 10:00"), bst("2026-03-03 10:00"))
    w.contacts(r["O3"], bst("2026-02-04 10:00"))
    w.contacts(r["O5"], *[bst(f"2026-03-1{d} 10:00") for d in range(3)])

    # Connections: attended by the end of the period: R1, R2, R3, R5, O1, O2 (6 of 11).
    sug, att = ConnectionStatus.SUGGESTED, ConnectionStatus.ATTENDED
    day = bst("2026-04-20 10:00")
    for key in (1, 2, 3, "O1"):
        w.connection(r[key], world.walk, (sug, day), (att, bst("2026-05-01 10:00")))
    for key in (5, "O2"):
        w.connection(r[key], world.lunch, (sug, day), (att, bst("2026-05-02 10:00")))
    w.connection(r[4], world.walk, (sug, day), (ConnectionStatus.ACCEPTED, day),
                 (att, bst("2026-07-03 10:00")))  # after the period: accepted at its end
    w.connection(r[6], world.lunch, (sug, day), (ConnectionStatus.DECLINED, day))
    w.connection(r["O3"], world.walk, (sug, day), (ConnectionStatus.NO_CAPACITY, day))
    w.connection(r["O5"], world.walk, (sug, day), (ConnectionStatus.DID_NOT_ATTEND, day))

    # UCLA-3 for 5 people; ONS4 for 4 (a mean over 4 is not shown).
    b, f, c = Timepoint.BASELINE, Timepoint.FOLLOW_UP, Timepoint.CLOSING
    for key, before, steps in ((1, 8, ((f, 6), (c, 4))), (2, 7, ((c, 5),)), (3, 9, ((f, 7),)),
                               (5, 6, ((c, 6),)), ("O1", 8, ((c, 3),))):
        w.measure(r[key], "ucla3", b, date(2026, 4, 20), loneliness=before)
        for i, (point, score) in enumerate(steps):
            w.measure(r[key], "ucla3", point, date(2026, 5, 10 + i), loneliness=score)
    w.measure(r[4], "ucla3", b, date(2026, 4, 20), loneliness=9)  # no follow-up: left out
    w.measure(r[2], "ucla3", f, date(2026, 7, 10), loneliness=3)  # after the period
    for key in (1, 2, 3, 5):
        w.measure(r[key], "ons4", b, date(2026, 4, 20), life_satisfaction=4, worthwhile=5,
                  happiness=4, anxiety=6)
        w.measure(r[key], "ons4", c, date(2026, 5, 20), life_satisfaction=7, worthwhile=7,
                  happiness=6, anxiety=3)

    # Unmet needs (hub section).
    for key, category, reason, when in (
            (1, "befriending", UnmetReason.FULL, bst("2026-04-10 10:00")),
            (2, "befriending", UnmetReason.COST, bst("2026-04-11 10:00")),
            (7, "mens-sheds", UnmetReason.NONE_NEARBY, bst("2026-05-11 10:00")),
            (0, "befriending", UnmetReason.FULL, bst("2026-03-10 10:00"))):  # before
        session.add(UnmetNeed(referral_id=r[key].id, category=category, reason=reason,
                              postcode_district=r[key].patient.postcode.split()[0],
                              recorded_at=when))
    if deprivation:
        session.add_all([PostcodeDeprivation(postcode="KB1 1AA", imd_decile=2),
                         PostcodeDeprivation(postcode="KB2 2BB", imd_decile=9)])
    session.flush()
    return world

"""The hub report's "Volunteers and the community" section (issue 15 point 5) against a
world small enough to work out by hand, on SQLite and PostgreSQL. The period is 1 April
to 30 June 2026 (BST: from 2026-03-31 23:00 UTC to before 2026-06-30 23:00 UTC).

Volunteers of the hub (decided = approved or declined on):
  V1-V5  approved 1 March; hours in the period (V1 2 h on 1 April and 3 h on 30 June,
         V2-V5 1.5 h each): active, approved. 11 hours by 5 volunteers.
  V6     approved 1 March; a match accepted 15 March, still running: active, approved.
  V7     approved 1 March; a match accepted in March, ended 20 March: approved only.
  V8     approved 1 March; hours on 31 March and 1 July only: approved only.
  V9     signed up 20 June, approved 2 July: awaiting checks at the end of June.
  V10    lapsed: neither.
  A1 A2  applied in April and May; A4 applied in March: awaiting checks.
  A3     applied 5 July: not yet signed up at the end of June.
  D1     signed up in May, declined 3 July: awaiting checks at the end of June.
  D2     declined in May: neither.
  Another hub's volunteer, approved with hours in the period: never counted.
So: active 6, approved 8, awaiting checks 5 (A1, A2, A4, V9, D1).

Warm handovers (referral connections) of the hub's referrals, answers in the period:
  Kindlebury Walkers: H1-H6 taken on, H1-H5 attended, H6 did not attend then attended,
    H7 taken on in March and attended in April; a signpost to them attended (not a
    handover). Taken on 6, attended 7, did not attend 1.
  Lunch Club CIC: L1 L2 no capacity, L3 taken on.
  "Men's shed" (an offer with no organisation): M1 taken on and attended.
  Another hub's handover to the Walkers: not counted.

Calls: 6 became self-referrals, 7 information (one at 00:30 on 1 April UK time), none a
volunteer request; one at 00:30 on 1 July UK time and another hub's call are left out.
"""
from __future__ import annotations

import itertools
import re
from datetime import date, datetime

import pytest

from referrals.models import (
    CallOutcome,
    Connection,
    ConnectionEvent,
    ConnectionKind,
    ConnectionStatus,
    DirectoryOrganisation,
    HubCall,
    MatchStatus,
    Offer,
    Volunteer,
    VolunteerHours,
    VolunteerMatch,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
)
from referrals.scopes import Period, Scope, ScopeKind
from reports import community_figures, period_report
from tests.counting import reads
from tests.reports.period_world import PERIOD, Writer, bst, utc

C = ConnectionStatus
V = VolunteerStatus
_ids = itertools.count(1)


class World:
    def __init__(self, session, make):
        self.session, self.make = session, make
        self.team = make.team(name="Kindle Hub")
        self.practice = make.practice(self.team, name="Kindlebury Surgery")
        self.other_team = make.team(name="Other Hub")
        self.other_practice = make.practice(self.other_team, name="Elsewhere Surgery")
        self.writer = Writer(session, make)

    def volunteer(self, status, created, decided=None, team=None) -> Volunteer:
        n = next(_ids)
        volunteer = Volunteer(team_id=(team or self.team).id, given_name=f"Vol {n}",
                              email=f"vol{n}@example.org", status=status,
                              created_at=created, decided_at=decided,
                              offers=[VolunteerOffer.BEFRIENDING_CALLS.value])
        self.session.add(volunteer)
        self.session.flush()
        return volunteer

    def hours(self, volunteer, on: date, hours: float):
        self.session.add(VolunteerHours(volunteer_id=volunteer.id, on=on, hours=hours))

    def match(self, volunteer, accepted: datetime, ended: datetime | None = None):
        request = VolunteerRequest(team_id=volunteer.team_id,
                                   need=VolunteerOffer.BEFRIENDING_CALLS, status="matched")
        self.session.add(request)
        self.session.flush()
        self.session.add(VolunteerMatch(
            volunteer_id=volunteer.id, request_id=request.id,
            status=MatchStatus.ENDED if ended else MatchStatus.ACCEPTED,
            proposed_at=accepted, responded_at=accepted, ended_at=ended))

    def offer(self, name: str, organisation: str | None = None) -> Offer:
        org = None
        if organisation:
            org = DirectoryOrganisation(id=f"org-{next(_ids)}", name=organisation)
            self.session.add(org)
        offer = Offer(id=f"offer-{next(_ids)}", name=name, languages=[], organisation=org)
        self.session.add(offer)
        self.session.flush()
        return offer

    def handover(self, offer, *steps, kind=ConnectionKind.REFERRAL, practice=None):
        """A connection from a referral received on 1 March, answered at each step."""
        referral = self.writer.referral(practice or self.practice, bst("2026-03-01 10:00"))
        connection = Connection(referral_id=referral.id, offer_id=offer.id, kind=kind,
                                status=steps[-1][0], created_at=bst("2026-03-02 10:00"))
        self.session.add(connection)
        self.session.flush()
        previous = C.ACCEPTED
        for status, at in steps:
            self.session.add(ConnectionEvent(connection_id=connection.id, at=at,
                                             from_status=previous, to_status=status))
            previous = status
        self.session.flush()

    def call(self, outcome, at, team=None):
        self.session.add(HubCall(team_id=(team or self.team).id, received_at=at,
                                 outcome=outcome, caller_name="A caller"))


def build_world(session, make) -> World:
    w = World(session, make)
    march, april = bst("2026-03-01 10:00"), bst("2026-04-10 10:00")
    logging = [w.volunteer(V.APPROVED, march, march) for _ in range(5)]
    w.hours(logging[0], date(2026, 4, 1), 2)
    w.hours(logging[0], date(2026, 6, 30), 3)
    for volunteer in logging[1:]:
        w.hours(volunteer, date(2026, 5, 12), 1.5)
    w.match(w.volunteer(V.APPROVED, march, march), bst("2026-03-15 10:00"))
    w.match(w.volunteer(V.APPROVED, march, march), bst("2026-03-05 10:00"),
            ended=bst("2026-03-20 10:00"))
    v8 = w.volunteer(V.APPROVED, march, march)
    w.hours(v8, date(2026, 3, 31), 4)
    w.hours(v8, date(2026, 7, 1), 4)
    w.volunteer(V.APPROVED, bst("2026-06-20 10:00"), bst("2026-07-02 10:00"))  # V9
    w.volunteer(V.LAPSED, march, march)  # V10
    w.volunteer(V.APPLIED, april)  # A1
    w.volunteer(V.APPLIED, bst("2026-05-10 10:00"))  # A2
    w.volunteer(V.APPLIED, bst("2026-07-05 10:00"))  # A3
    w.volunteer(V.APPLIED, march)  # A4
    w.volunteer(V.DECLINED, bst("2026-05-10 10:00"), bst("2026-07-03 10:00"))  # D1
    w.volunteer(V.DECLINED, april, bst("2026-05-20 10:00"))  # D2
    elsewhere = w.volunteer(V.APPROVED, march, march, team=w.other_team)
    w.hours(elsewhere, date(2026, 5, 1), 10)

    walkers = w.offer("Walking group", "Kindlebury Walkers")
    lunch = w.offer("Tuesday lunch", "Lunch Club CIC")
    shed = w.offer("Men's shed")
    taken = (C.TAKEN_ON, bst("2026-04-02 10:00"))
    for _ in range(5):  # H1-H5
        w.handover(walkers, taken, (C.ATTENDED, bst("2026-04-09 10:00")))
    w.handover(walkers, taken, (C.DID_NOT_ATTEND, bst("2026-05-01 10:00")),
               (C.ATTENDED, bst("2026-05-08 10:00")))  # H6
    # H7: taken on at 21:00 on 31 March (UK), before the period.
    w.handover(walkers, (C.TAKEN_ON, utc("2026-03-31 20:00")),
               (C.ATTENDED, bst("2026-04-09 10:00")))
    w.handover(walkers, (C.ATTENDED, bst("2026-04-09 10:00")), kind=ConnectionKind.SIGNPOST)
    w.handover(walkers, taken, practice=w.other_practice)
    for _ in range(2):
        w.handover(lunch, (C.NO_CAPACITY, bst("2026-06-01 10:00")))
    w.handover(lunch, taken)
    w.handover(shed, taken, (C.ATTENDED, bst("2026-06-30 23:30")))

    for _ in range(6):
        w.call(CallOutcome.SELF_REFERRAL, bst("2026-05-05 10:00"))
    for _ in range(6):
        w.call(CallOutcome.INFORMATION, bst("2026-06-05 10:00"))
    w.call(CallOutcome.INFORMATION, utc("2026-03-31 23:30"))  # 00:30 on 1 April, UK
    w.call(CallOutcome.INFORMATION, utc("2026-06-30 23:30"))  # 00:30 on 1 July, UK
    w.call(CallOutcome.VOLUNTEER_REQUEST, bst("2026-05-05 10:00"), team=w.other_team)
    session.flush()
    return w


def hub_scope(w: World) -> Scope:
    return Scope(ScopeKind.HUB, w.team.name, (w.practice.id,), w.team.id)


@pytest.fixture
def world(db, make):
    return build_world(db.session, make)


@pytest.fixture
def community(world):
    """The section alone (the page and PDF test builds the whole report)."""
    return community_figures.build(hub_scope(world), PERIOD)


def test_volunteers_active_approved_and_awaiting_checks_at_the_end_of_the_period(community):
    c = community
    assert (c.active.text, c.approved.text, c.awaiting_checks.text) == ("6", "8", "5")


def test_hours_are_summed_over_the_period_and_say_how_many_volunteers_logged_them(community):
    assert community.hours.text == "11.0 hours"
    assert community.hours_logged_by.text == "5"


def test_hours_logged_by_fewer_than_5_volunteers_are_not_shown(world):
    # Only V1 logged hours on 30 June.
    last_day = Period(date(2026, 6, 30), date(2026, 6, 30))
    c = community_figures.build(hub_scope(world), last_day)
    assert c.hours.hidden and c.hours.text == "not shown (fewer than 5)"
    assert c.hours_logged_by.text == "<5"
    # Counts of 1 to 4 are "<5" here as everywhere: only V1 and V6 were active that day.
    assert c.active.text == "<5" and c.active.value == 2


def test_handovers_per_organisation_with_the_columns_suppressed_like_the_rest(community):
    c = community
    assert c.handover_columns == ("Taken on", "No capacity", "Attended", "Did not attend")
    rows = {name: [cell.text for cell in cells] for name, cells in c.handovers}
    assert list(rows) == ["Kindlebury Walkers", "Lunch Club CIC", "Men's shed"]
    values = {name: [cell.value for cell in cells] for name, cells in c.handovers}
    assert values == {"Kindlebury Walkers": [6, 0, 7, 1], "Lunch Club CIC": [1, 2, 0, 0],
                      "Men's shed": [1, 0, 1, 0]}
    # Taken on: two small cells hide each other. Attended: the shed's 1 would be 8 - 7,
    # so the Walkers' 7 is withheld too. A small column total hides nothing more.
    assert rows == {"Kindlebury Walkers": ["6", "0", "[c]", "<5"],
                    "Lunch Club CIC": ["<5", "<5", "0", "0"],
                    "Men's shed": ["<5", "0", "<5", "0"]}
    assert [cell.text for cell in c.handover_totals] == ["8", "<5", "8", "<5"]


def test_calls_by_outcome_in_uk_days(community):
    c = community
    assert [(label, cell.text) for label, cell in c.calls] == [
        ("Became a self-referral", "6"), ("Became a volunteer request", "0"),
        ("Information given", "7")]
    assert c.calls_total.text == "13"
    assert "Information given" in c.calls_chart.svg


def test_a_practice_or_pcn_report_says_nothing_about_volunteers_handovers_or_calls(world):
    for kind in (ScopeKind.PRACTICE, ScopeKind.PCN):
        scope = Scope(kind, world.practice.name, (world.practice.id,))
        report = period_report.build(scope, PERIOD)
        assert report.community is None
        html = period_report.render_html(report)
        assert "Volunteers and the community" not in html and "Kindlebury Walkers" not in html


def test_one_statement_per_figure_group_however_many_rows(db, make, world):
    scope = hub_scope(world)

    def measure():
        db.session.expire_all()
        with reads(db) as found:
            community_figures.build(scope, PERIOD)
        return len(found.statements), found.rows

    before = measure()
    for n in range(30):
        volunteer = world.volunteer(V.APPROVED, bst("2026-03-01 10:00"), bst("2026-03-01 10:00"))
        world.hours(volunteer, date(2026, 5, 1), 1)
        world.call(CallOutcome.INFORMATION, bst("2026-05-05 10:00"))
    for n in range(5):  # new organisations add rows, never statements
        world.handover(world.offer(f"Group {n}", f"Organisation {n}"),
                       (C.TAKEN_ON, bst("2026-04-02 10:00")))
    db.session.flush()
    after = measure()
    assert community_figures.build(scope, PERIOD).approved.value == 38  # they were counted
    assert before[0] == after[0] == 4, (before, after)
    assert after[1] == before[1] + 5  # one row for each new organisation's answer


def test_the_section_is_in_the_coordinators_hub_page_and_its_pdf(client, login_as, world):
    from referrals.models import Role
    from tests.reports.conftest import pdftotext

    login_as(Role.COORDINATOR, team=world.team)
    html = client.get("/reports/hub?from=2026-04-01&to=2026-06-30").get_data(as_text=True)
    section = html.split('id="community"', 1)[1]
    assert re.search(r"Volunteers approved at the end of the period</th><td[^>]*>8<", section)
    assert "11.0 hours" in section and "Kindlebury Walkers" in section
    assert "fewer than 5 volunteers logged them" in section
    pdf = client.get("/reports/hub.pdf?from=2026-04-01&to=2026-06-30").data
    text = " ".join(pdftotext(pdf).split())
    for words in (
        "Volunteers and the community",
        "Volunteers active in the period 6",
        "Hours given in the period, where volunteers logged them 11.0 hours",
        "Kindlebury Walkers 6 0 [c] <5",
        "Information given 7",
        "Calls to the hub's phone line",
    ):
        assert words in text, words


def test_the_hub_community_csv_has_the_figures_suppressed_as_shown_and_is_audited(
        client, login_as, db, world):
    import csv

    from sqlalchemy import select

    from referrals.models import AuditEvent, Role

    login_as(Role.COORDINATOR, team=world.team)
    page = client.get("/reports/hub?from=2026-04-01&to=2026-06-30").get_data(as_text=True)
    assert 'href="/reports/hub-community.csv?from=2026-04-01&amp;to=2026-06-30"' in page
    response = client.get("/reports/hub-community.csv?from=2026-04-01&to=2026-06-30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(response.get_data(as_text=True).splitlines()))
    assert rows[0] == ["group", "figure", "organisation", "value"]
    assert ["volunteers", "active in the period", "", "6"] in rows
    assert ["volunteers", "hours given where logged", "", "11.0 hours"] in rows
    assert ["warm handovers", "attended", "Kindlebury Walkers", "[c]"] in rows
    assert ["warm handovers", "taken on", "Men's shed", "<5"] in rows
    assert ["warm handovers", "taken on", "Total", "8"] in rows
    assert ["calls", "information given", "", "7"] in rows
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "export" and event.detail["export"] == "community"
    assert event.patient_id is None
    # A bad period is said in words (a download has no page to show it beside a field).
    bad = client.get("/reports/hub-community.csv?from=2026-04-31&to=2026-06-30")
    assert bad.status_code == 400 and "from: Enter the start date" in bad.get_data(as_text=True)


def test_a_manager_may_not_download_the_hubs_community_csv(client, login_as, world):
    from referrals.models import Role

    login_as(Role.MANAGER, practice=world.practice)
    response = client.get("/reports/hub-community.csv?from=2026-04-01&to=2026-06-30")
    assert response.status_code == 403
    page = client.get("/reports/practice?from=2026-04-01&to=2026-06-30")
    assert "hub-community.csv" not in page.get_data(as_text=True)

"""The demo's community figures (referrals.demo_numbers), on a small hub of its own: the
last quarter's volunteers, hours, calls and handover answers, as plain rows, no accounts,
added once. (tests/reports/test_demo_report.py checks the seeded demo's hub report.)"""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from referrals import demo_numbers
from referrals.models import (
    Connection,
    ConnectionEvent,
    DirectoryOrganisation,
    HubCall,
    Offer,
    OfferStatus,
    ReferralStatus,
    Role,
    User,
    Volunteer,
    VolunteerHours,
)
from referrals.scopes import Period, Scope, ScopeKind
from tests.reports.period_world import Writer, bst

NOW = datetime(2026, 8, 12, 10, 0, tzinfo=UTC)
QUARTER = Period.last_quarter(NOW.date())  # April to June 2026


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def hub_community_has_figures(report) -> None:
    """What the demo's hub report must show: every volunteer and call figure, and some
    handover answers, as numbers rather than hidden."""
    c = report.community
    for cell in (c.active, c.approved, c.awaiting_checks, c.hours, c.calls_total):
        assert not cell.hidden and cell.value >= 5, cell
    assert all(not cell.hidden and cell.value >= 5 for _, cell in c.calls)
    assert any(not cell.hidden and cell.value for _, cells in c.handovers for cell in cells)
    assert not c.handover_totals[0].hidden and c.handover_totals[0].value >= 5  # taken on
    from reports import period_report

    section = period_report.render_html(report).split('id="community"')[1]
    assert re.search(r"Volunteers active in the period</th><td[^>]*>\d+<", section)
    assert re.search(r"where volunteers logged them</th><td[^>]*>[\d.,]+ hours<", section)


def test_the_demo_adds_a_quarter_of_community_figures_once_and_no_accounts(db, make):
    from reports import period_report

    team = make.team(name="Demo Hub")
    practice = make.practice(team)
    make.user(Role.COORDINATOR, team=team)
    make.user(Role.CONNECTOR, team=team)
    writer = Writer(db.session, make)
    for day in ("2026-03-20", "2026-04-15", "2026-05-02"):
        writer.referral(practice, bst(f"{day} 10:00"), status=ReferralStatus.IN_PROGRESS)
    for name in ("Walkers", "Lunch club"):
        org = DirectoryOrganisation(id=f"org-{name}", name=name)
        db.session.add(org)
        for n in range(2):
            db.session.add(Offer(id=f"offer-{name}-{n}", name=f"{name} {n}", languages=[],
                                 organisation=org, status=OfferStatus.ACTIVE))
    db.session.flush()
    users = count(db, User)

    demo_numbers.add(team, now=NOW)

    assert count(db, User) == users
    assert count(db, Volunteer, Volunteer.user_id.is_not(None)) == 0
    # Everything dated in the quarter, so the report on it counts it all.
    assert count(db, VolunteerHours, VolunteerHours.on < QUARTER.start) == 0
    assert count(db, VolunteerHours, VolunteerHours.on > QUARTER.end) == 0
    assert count(db, HubCall) == len(demo_numbers.CALLS)
    assert count(db, ConnectionEvent, ConnectionEvent.at < QUARTER.starts_at) == 0
    assert count(db, ConnectionEvent, ConnectionEvent.at >= QUARTER.ends_before) == 0
    report = period_report.build(Scope(ScopeKind.HUB, team.name, (practice.id,), team.id),
                                 QUARTER)
    c = report.community
    assert (c.active.value, c.approved.value, c.awaiting_checks.value) == (6, 8, 6)
    assert [cell.value for _, cell in c.calls] == [7, 6, 9]
    assert [name for name, _ in c.handovers] == ["Lunch club", "Walkers"]
    assert [cell.value for cell in c.handover_totals] == [12, 2, 10, 2]
    hub_community_has_figures(report)

    before = [count(db, model) for model in (Volunteer, VolunteerHours, HubCall, Connection)]
    demo_numbers.add(team, now=NOW)  # a second run (or beside another module) adds nothing
    assert [count(db, model) for model in (Volunteer, VolunteerHours, HubCall,
                                           Connection)] == before

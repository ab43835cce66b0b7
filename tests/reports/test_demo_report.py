"""The demo's history (referrals.demo_history): seed-demo gives manager@kindly.example a
last-quarter report with real figures, every one of them the data's own."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referrals import access, demo_history, workdays
from referrals.models import (
    ApiClient,
    Connection,
    Measurement,
    Offer,
    OutcomeLetter,
    PostcodeDeprivation,
    Referral,
    Timepoint,
    UnmetNeed,
    User,
    utcnow,
)
from referrals.nhs_number import is_valid
from referrals.scopes import Period, ScopeKind
from reports.suppression import Cell

HANDMADE = 41  # the demo's own people and referrals, written before the history


@pytest.fixture(autouse=True)
def demo_history_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_HISTORY", True)


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def count(db, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(Referral).where(*where))


def manager_report(db):
    from reports import period_report

    manager = db.session.scalars(
        select(User).where(User.email == "manager@kindly.example")).one()
    scope = access.report_scope(manager, ScopeKind.PRACTICE)
    period = Period.last_quarter(workdays.uk_date(utcnow()))
    return manager, period, period_report.build(scope, period)


def period_report_for(user, kind, period):
    from reports import period_report

    return period_report.build(access.report_scope(user, kind), period)


def test_the_history_is_closed_referrals_of_the_demos_own_practices_and_people(db, seeded):
    first = db.session.scalars(select(Referral.id).order_by(Referral.id)
                               .offset(HANDMADE).limit(1)).one()
    history = db.session.scalars(select(Referral).where(Referral.id >= first)).all()
    assert 600 <= len(history) <= 1000
    assert "earlier referrals" in seeded.output
    now = utcnow()
    assert all(not r.status.is_open for r in history)
    assert all(now - timedelta(days=460) <= r.created_at <= now - timedelta(days=13)
               for r in history)
    demo_practices = {r.practice_id for r in db.session.scalars(
        select(Referral).where(Referral.id < first))}
    assert {r.practice_id for r in history} == demo_practices
    # 150 to 250 a year for each practice: about 40 to 60 a quarter.
    per_practice = db.session.execute(select(Referral.practice_id, func.count())
                                      .where(Referral.id >= first)
                                      .group_by(Referral.practice_id)).all()
    assert all(150 * 1.2 <= n <= 250 * 1.3 for _, n in per_practice)
    team = {u.id for u in db.session.scalars(select(User).where(User.team_id.is_not(None)))}
    assert {r.connector_id for r in history} - {None} <= team
    # Only the practice whose GP system is linked sends referrals through it.
    client = db.session.scalars(select(ApiClient)).one()
    fhir = [r for r in history if r.source == "fhir"]
    assert fhir and all(r.api_client_id == client.id for r in fhir)
    assert {r.practice_id for r in fhir} == {p.id for p in client.practices}
    people = {r.patient for r in history}
    assert all(p.nhs_number is None or (p.nhs_number.startswith("999")
                                        and is_valid(p.nhs_number)) for p in people)
    deciles = set(db.session.scalars(select(PostcodeDeprivation.postcode)))
    assert {p.postcode for p in people} <= deciles
    groups = {p.ethnic_category for p in people}
    assert {"A", "Z", "99"} <= groups and len(groups) >= 10
    # Nobody has two open referrals (the history is closed), some came back.
    assert db.session.scalar(select(func.count()).select_from(
        select(Referral.patient_id).group_by(Referral.patient_id)
        .having(func.count() > 1).subquery())) > 0
    history_ids = [r.id for r in history]
    offers = set(db.session.scalars(select(Offer.id)))
    connected = set(db.session.scalars(select(Connection.offer_id).where(
        Connection.referral_id.in_(history_ids))))
    assert connected and connected <= offers
    follow_ups = db.session.scalar(select(func.count()).select_from(Measurement).where(
        Measurement.referral_id.in_(history_ids),
        Measurement.timepoint != Timepoint.BASELINE))
    assert follow_ups >= 100
    assert db.session.scalar(select(func.count()).select_from(UnmetNeed).where(
        UnmetNeed.referral_id.in_(history_ids))) >= 5
    # Outcome letters only for the hand-made closed referrals, as before.
    assert db.session.scalar(select(func.count()).select_from(OutcomeLetter).where(
        OutcomeLetter.referral_id.in_(history_ids))) == 0


def test_the_history_leaves_the_hand_made_referrals_as_they_were(db, runner, monkeypatch):
    def snapshot():
        rows = db.session.scalars(select(Referral).order_by(Referral.id)).all()
        return [(r.reference, r.status, r.created_at, r.connector_id, r.first_contact_at,
                 r.patient.nhs_number, r.patient.ethnic_category, len(r.contacts),
                 len(r.connections), len(r.measurements), r.version) for r in rows]

    real_add = demo_history.add
    monkeypatch.setattr(demo_history, "add", lambda **_: None)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    before = snapshot()
    assert len(before) == HANDMADE
    real_add(now=utcnow())
    db.session.commit()
    db.session.expire_all()
    after = snapshot()
    assert len(after) > 600
    assert after[:HANDMADE] == before


def test_the_managers_last_quarter_report_has_real_figures_matching_the_data(db, seeded):
    manager, period, report = manager_report(db)
    practice = Referral.practice_id == manager.practice_id
    received = (practice, Referral.created_at >= period.starts_at,
                Referral.created_at < period.ends_before)
    # Enough to show, and exactly the data's counts.
    assert not report.received.hidden and report.received.value >= 30
    assert report.received.value == count(db, *received)
    urgency = dict(report.urgency.rows)
    routine, urgent = urgency["Routine"], urgency["Urgent"]
    assert routine.value == count(db, *received, Referral.urgency == "routine")
    assert urgent.value == count(db, *received, Referral.urgency == "urgent")
    # The demo is dated from today, so urgent may be small: then routine is withheld with
    # it (the total would give it away); otherwise both are shown.
    assert routine.hidden == urgent.hidden
    sources = dict(report.sources.rows)
    assert sources["Practice referral form"].value == count(db, *received,
                                                            Referral.source == "form")
    shown_reasons = [cell for _, cell in report.reasons.rows if not cell.hidden]
    assert len(shown_reasons) >= 5
    # Seen, connected, better off.
    assert not report.first_contact.median_days.hidden
    assert not report.first_contact.within_percent.hidden
    assert not report.connections.attended_percent.hidden
    shown = [line for line in report.outcomes if not line.change.hidden]
    assert shown and all(line.n.value >= 5 for line in shown)
    assert any(line.code == "ons4" for line in shown)
    # Charts with bars, and inequality tables with several cells shown.
    charts = [b.chart for b in (report.reasons, report.urgency, report.sources,
                                report.statuses) if b.chart]
    assert any('class="bar"' in chart.svg for chart in charts)
    for table in report.inequalities:
        assert table.available, table.title
        shown = [cell for _, cells in table.rows for cell in cells
                 if isinstance(cell, Cell) and not cell.hidden and cell.value]
        assert len(shown) >= 3, table.title
    # --- issue 15 (numbers): the coordinator's hub report shows the community figures ---
    from tests.reports.test_demo_numbers import hub_community_has_figures

    coordinator = db.session.scalars(
        select(User).where(User.email == "coordinator@kindly.example")).one()
    hub_community_has_figures(period_report_for(coordinator, ScopeKind.HUB, period))


def test_seed_demo_stores_last_months_report_for_each_practice(app, db, runner, monkeypatch):
    from referrals.models import Practice, StoredReport
    from reports import readiness
    from reports.monthly import STORED_KIND

    if (why := readiness.pdf_unavailable()) is not None:
        pytest.skip(f"PDFs cannot be made here: {why}")
    monkeypatch.setitem(app.config, "MONTHLY_REPORTS", True)

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    last_month = Period.previous_month(workdays.uk_date(utcnow()))
    stored = db.session.scalars(select(StoredReport)).all()
    assert {r.practice_id for r in stored} == set(db.session.scalars(select(Practice.id)))
    assert all(r.kind == STORED_KIND and r.period_start == last_month.start
               and r.period_end == last_month.end and r.pdf.startswith(b"%PDF-")
               for r in stored)
    assert f"Stored last month's report for {len(stored)} practices." in result.output


def test_seed_demo_stores_no_monthly_reports_when_they_are_off(db, seeded):
    from referrals.models import StoredReport

    assert db.session.scalar(select(func.count()).select_from(StoredReport)) == 0
    assert "Stored last month's report" not in seeded.output

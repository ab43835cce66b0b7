"""The hub and practice reports on the generated PCN tier (about 1,000 referrals), checked
against arithmetic done here in Python from the rows themselves: the SQL aggregation must
agree with a plain count at realistic volume, on SQLite and PostgreSQL."""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import Contact, Practice, Referral, ReferralEvent, Team
from referrals.scopes import Period, Scope, ScopeKind
from referrals.workdays import uk_date
from reports import period_report
from tests.generated import TODAY, pcn_tier

PERIOD = Period.last_quarter(TODAY)  # 1 July to 30 September 2026


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pcn(request, tmp_path_factory):
    with pcn_tier(request, tmp_path_factory.mktemp("pcn-report")) as (app, _):
        with app.app_context():
            yield app
            db.session.remove()


def hub_scope() -> Scope:
    team = db.session.scalars(select(Team)).one()
    return Scope(ScopeKind.HUB, team.name, tuple(p.id for p in team.practices), team.id)


def received_here(scope: Scope) -> list[Referral]:
    return db.session.scalars(select(Referral).where(
        scope.referrals(), Referral.created_at >= PERIOD.starts_at,
        Referral.created_at < PERIOD.ends_before)).all()


def shown(breakdown) -> dict[str, int]:
    return {label: cell.value for label, cell in breakdown.rows}


def test_the_hubs_counts_are_the_rows_counted(pcn):
    scope = hub_scope()
    report = period_report.build(scope, PERIOD)
    rows = received_here(scope)
    assert len(rows) > 100, "the PCN tier has a quarter's referrals"
    assert report.received.value == len(rows) and report.received.text == f"{len(rows):,}"
    urgency = Counter(r.urgency.value.capitalize() for r in rows)
    assert {k: v for k, v in shown(report.urgency).items() if v} == dict(urgency)
    assert report.urgency.total.value == len(rows)
    # The status each had when the quarter ended: its last status event before then.
    at_end = Counter()
    for referral in rows:
        events = [e for e in referral.events
                  if e.kind == "status" and e.at < PERIOD.ends_before]
        at_end[max(events, key=lambda e: (e.at, e.id)).to_status.label] += 1
    assert {k: v for k, v in shown(report.statuses).items() if v} == dict(at_end)


def test_the_median_time_to_first_contact_is_the_rows_median(pcn):
    scope = hub_scope()
    report = period_report.build(scope, PERIOD)
    days = [(uk_date(r.first_contact_at) - uk_date(r.created_at)).days
            for r in received_here(scope)
            if r.first_contact_at is not None and r.first_contact_at < PERIOD.ends_before]
    assert len(days) >= 5
    assert report.first_contact.median_days.value == pytest.approx(statistics.median(days))
    assert report.first_contact.contacted.value == len(days)


def test_contacts_per_person_over_the_referrals_closed_in_the_quarter(pcn):
    scope = hub_scope()
    report = period_report.build(scope, PERIOD)
    closing = {"completed", "declined", "unable_to_contact"}
    closed_ids = set(db.session.scalars(select(ReferralEvent.referral_id).join(Referral).where(
        scope.referrals(), ReferralEvent.kind == "status",
        ReferralEvent.to_status.in_(closing), ReferralEvent.at >= PERIOD.starts_at,
        ReferralEvent.at < PERIOD.ends_before)))
    contacts = db.session.scalars(select(Contact).where(
        Contact.referral_id.in_(closed_ids), Contact.at < PERIOD.ends_before)).all()
    assert report.connections.closed.value == len(closed_ids)
    assert report.connections.contacts.value == len(contacts)


def test_the_practices_add_up_to_the_hub(pcn):
    hub = period_report.build(hub_scope(), PERIOD)
    practices = db.session.scalars(select(Practice)).all()
    per_practice = [period_report.build(Scope(ScopeKind.PRACTICE, p.name, (p.id,)), PERIOD)
                    for p in practices]
    assert sum(r.received.value for r in per_practice) == hub.received.value
    # Small practices' small counts are hidden, never the hub's whole.
    assert not hub.received.hidden and PERIOD.ends_before - PERIOD.starts_at > timedelta(80)


# --- issue 15 (numbers): the hub's warm handovers, against the rows ---------------------


def test_the_hubs_warm_handovers_per_organisation_are_the_rows_counted(pcn):
    from sqlalchemy.orm import selectinload

    from referrals.models import Connection, ConnectionKind, Offer
    from reports import community_figures

    scope = hub_scope()
    found = community_figures.handovers(scope, PERIOD)
    wanted = {status.value for status, _ in community_figures.HANDOVER_COLUMNS}
    counted: Counter = Counter()
    handovers = db.session.scalars(
        select(Connection).join(Referral)
        .where(scope.referrals(), Connection.kind == ConnectionKind.REFERRAL)
        .options(selectinload(Connection.events),
                 selectinload(Connection.offer).selectinload(Offer.organisation))).all()
    for connection in handovers:
        offer, org = connection.offer, connection.offer.organisation
        key = (org.id, org.name) if org else (offer.id, offer.name)
        for answer in {e.to_status.value for e in connection.events
                       if e.to_status.value in wanted
                       and PERIOD.starts_at <= e.at < PERIOD.ends_before}:
            counted[(key, answer)] += 1
    assert sum(counted.values()) >= 20, "the PCN tier has a quarter's handovers"
    assert {(key, answer): n for key, answers in found.items()
            for answer, n in answers.items()} == dict(counted)

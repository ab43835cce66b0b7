"""Volunteers and the community (issue 15 point 5): the hub report's section on the
hub's volunteers, the hours they give, the warm handovers community organisations
answer, and the calls the hub's phone line takes.

Hub reports only. Volunteers and calls belong to the hub's team, not to a practice, and a
practice or PCN report must tell a manager nothing about other organisations, so those
reports have no such section (`period_report.build` asks only for ScopeKind.HUB).

One aggregate statement per figure group (volunteers, hours, handovers, calls), however
many volunteers, organisations or calls there are. Every count is suppressed as the rest
of the report is (reports.suppression); the hours are a total over volunteers, so they
are shown only when at least the threshold of volunteers logged them, like a mean.
docs/reports.md says what each figure counts.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, or_, select

from referrals.extensions import db
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
    Referral,
    Volunteer,
    VolunteerHours,
    VolunteerMatch,
    VolunteerStatus,
)
from referrals.scopes import Period, Scope
from reports import suppression
from reports.charts import Chart, bar_chart
from reports.suppression import Cell

# The partner's answers to a warm handover, in the order they usually come.
HANDOVER_COLUMNS = (
    (ConnectionStatus.TAKEN_ON, "Taken on"),
    (ConnectionStatus.NO_CAPACITY, "No capacity"),
    (ConnectionStatus.ATTENDED, "Attended"),
    (ConnectionStatus.DID_NOT_ATTEND, "Did not attend"),
)
MOST_ORGANISATIONS = 20  # the busiest by name; the rest are summed in one line


@dataclass(frozen=True)
class Community:
    active: Cell
    approved: Cell
    awaiting_checks: Cell
    hours: Cell
    hours_logged_by: Cell
    handover_columns: tuple[str, ...]
    # (organisation, one cell per column of handover_columns)
    handovers: tuple[tuple[str, tuple[Cell, ...]], ...]
    handover_totals: tuple[Cell, ...]
    calls: tuple[tuple[str, Cell], ...]
    calls_total: Cell
    calls_chart: Chart | None = None


def build(scope: Scope, period: Period) -> Community:
    """The section's figures for a hub `scope` over `period`, suppressed."""
    active, approved, awaiting = volunteer_counts(scope, period)
    hours, logged_by = hours_given(scope, period)
    columns, rows, totals = _handover_table(handovers(scope, period))
    found_calls = calls(scope, period)
    outcomes = [(outcome.value, outcome.label) for outcome in CallOutcome]
    call_cells = suppression.column(found_calls, [key for key, _ in outcomes])
    call_rows = tuple((label, call_cells[key]) for key, label in outcomes)
    return Community(
        active=suppression.count(active), approved=suppression.count(approved),
        awaiting_checks=suppression.count(awaiting),
        hours=suppression.statistic(hours if logged_by else None, logged_by, unit=" hours"),
        hours_logged_by=suppression.count(logged_by),
        handover_columns=columns, handovers=rows, handover_totals=totals,
        calls=call_rows, calls_total=call_cells["total"],
        calls_chart=bar_chart("Calls to the hub, by outcome", call_rows)
        if call_cells["total"].value else None)


# --- the queries: one statement each ------------------------------------------------


def volunteer_counts(scope: Scope, period: Period) -> tuple[int, int, int]:
    """(active in the period, approved at its end, awaiting checks at its end).

    Active: had a match running during the period (accepted before it ended, not ended
    before it began) or logged hours on a day in it. Approved: approved by the end of the
    period and approved still. Awaiting checks: signed up by the end of the period and
    not yet decided then (still applied, or approved or declined after it)."""
    ends = period.ends_before
    running = exists().where(
        VolunteerMatch.volunteer_id == Volunteer.id,
        VolunteerMatch.status.in_((MatchStatus.ACCEPTED, MatchStatus.ENDED)),
        VolunteerMatch.responded_at < ends,
        or_(VolunteerMatch.ended_at.is_(None), VolunteerMatch.ended_at >= period.starts_at))
    logged = exists().where(VolunteerHours.volunteer_id == Volunteer.id,
                            VolunteerHours.on >= period.start, VolunteerHours.on <= period.end)
    decided = func.coalesce(Volunteer.decided_at, Volunteer.created_at)
    approved = and_(Volunteer.status == VolunteerStatus.APPROVED, decided < ends)
    awaiting = and_(Volunteer.created_at < ends, or_(
        Volunteer.status == VolunteerStatus.APPLIED,
        and_(Volunteer.status.in_((VolunteerStatus.APPROVED, VolunteerStatus.DECLINED)),
             Volunteer.decided_at >= ends)))
    row = db.session.execute(
        select(func.count(case((or_(running, logged), 1))), func.count(case((approved, 1))),
               func.count(case((awaiting, 1))))
        .where(Volunteer.team_id == scope.team_id)).one()
    return int(row[0]), int(row[1]), int(row[2])


def hours_given(scope: Scope, period: Period) -> tuple[float, int]:
    """(hours logged for days in the period, volunteers who logged them)."""
    row = db.session.execute(
        select(func.coalesce(func.sum(VolunteerHours.hours), 0),
               func.count(func.distinct(VolunteerHours.volunteer_id)))
        .join(Volunteer, Volunteer.id == VolunteerHours.volunteer_id)
        .where(Volunteer.team_id == scope.team_id, VolunteerHours.on >= period.start,
               VolunteerHours.on <= period.end)).one()
    return float(row[0]), int(row[1])


def handovers(scope: Scope, period: Period) -> dict[tuple[str, str], dict[str, int]]:
    """(organisation id, name) -> {answer: warm handovers given that answer in the
    period}. A handover answered twice the same way in the period counts once; an offer
    listed with no organisation stands for itself."""
    key = func.coalesce(DirectoryOrganisation.id, Offer.id)
    name = func.coalesce(DirectoryOrganisation.name, Offer.name)
    rows = db.session.execute(
        select(key, name, ConnectionEvent.to_status,
               func.count(func.distinct(Connection.id)))
        .select_from(ConnectionEvent)
        .join(Connection, Connection.id == ConnectionEvent.connection_id)
        .join(Referral, Referral.id == Connection.referral_id)
        .join(Offer, Offer.id == Connection.offer_id)
        .outerjoin(DirectoryOrganisation, DirectoryOrganisation.id == Offer.organisation_id)
        .where(scope.referrals(), Connection.kind == ConnectionKind.REFERRAL,
               ConnectionEvent.to_status.in_([status for status, _ in HANDOVER_COLUMNS]),
               ConnectionEvent.at >= period.starts_at, ConnectionEvent.at < period.ends_before)
        .group_by(key, name, ConnectionEvent.to_status)).all()
    found: dict[tuple[str, str], dict[str, int]] = {}
    for org_id, org_name, status, n in rows:
        found.setdefault((org_id, org_name), {})[getattr(status, "value", status)] = int(n)
    return found


def calls(scope: Scope, period: Period) -> dict[str, int]:
    """Calls the hub's phone line took in the period, by what they became."""
    return {getattr(outcome, "value", outcome): int(n) for outcome, n in db.session.execute(
        select(HubCall.outcome, func.count())
        .where(HubCall.team_id == scope.team_id, HubCall.received_at >= period.starts_at,
               HubCall.received_at < period.ends_before)
        .group_by(HubCall.outcome)).all()}


# --- suppressing --------------------------------------------------------------------


def _handover_table(found: dict[tuple[str, str], dict[str, int]]):
    """The busiest organisations first (then by name), the rest summed in one line. Each
    answer is a column with its total, suppressed as one (a handover can be taken on
    and then attended, so a row has no total)."""
    order = sorted(found, key=lambda org: (-sum(found[org].values()), org[1].lower(), org[0]))
    rows = [(org[1], found[org]) for org in order[:MOST_ORGANISATIONS]]
    rest = order[MOST_ORGANISATIONS:]
    if rest:
        summed: dict[str, int] = {}
        for org in rest:
            for status, n in found[org].items():
                summed[status] = summed.get(status, 0) + n
        rows.append((f"{len(rest)} other organisations", summed))
    columns = []
    for status, _ in HANDOVER_COLUMNS:
        columns.append(suppression.column(
            {i: counts.get(status.value, 0) for i, (_, counts) in enumerate(rows)},
            range(len(rows))))
    cells = tuple((name, tuple(column[i] for column in columns))
                  for i, (name, _) in enumerate(rows))
    return (tuple(label for _, label in HANDOVER_COLUMNS), cells,
            tuple(column["total"] for column in columns))


# --- the section as a CSV: the figures as the report shows them ----------------------

CSV_COLUMNS = ("group", "figure", "organisation", "value")


def csv_rows(community: Community) -> list[tuple[str, str, str, str]]:
    """(group, figure, organisation, value) for every figure of the section, each value
    exactly as the report prints it ("<5", "[c]" and all): the same suppressed figures,
    for a spreadsheet."""
    c = community
    rows = [("volunteers", "active in the period", "", c.active.text),
            ("volunteers", "approved at the end of the period", "", c.approved.text),
            ("volunteers", "awaiting checks at the end of the period", "",
             c.awaiting_checks.text),
            ("volunteers", "hours given where logged", "", c.hours.text),
            ("volunteers", "volunteers who logged hours", "", c.hours_logged_by.text)]
    for name, cells in c.handovers:
        rows += [("warm handovers", label.lower(), name, cell.text)
                 for label, cell in zip(c.handover_columns, cells, strict=True)]
    rows += [("warm handovers", label.lower(), "Total", cell.text)
             for label, cell in zip(c.handover_columns, c.handover_totals, strict=True)]
    rows += [("calls", label.lower(), "", cell.text) for label, cell in c.calls]
    rows.append(("calls", "total", "", c.calls_total.text))
    return rows

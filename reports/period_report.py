"""The period report for a practice, a PCN or the hub: what a practice manager takes to a
PCN meeting and a hub lead to commissioners.

The public contract (the monthly job calls it too):
- `build(scope, period) -> PeriodReport`: the figures, aggregated in SQL
  (reports.period_figures), every one suppressed (reports.suppression) and charted from
  the suppressed values (reports.charts);
- `render_html(report) -> str`: the report's body for a page;
- `render_pdf(report) -> bytes`: an A4 PDF with page numbers (reports.pdf).

Which referrals each figure counts is written in docs/reports.md and in the report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from referrals.directory.vocabulary import CATEGORIES
from referrals.models import ConnectionStatus, Referral, ReferralStatus, Sex, utcnow
from referrals.outcomes import instruments as registry
from referrals.reasons import REASONS
from referrals.scopes import Period, Scope, ScopeKind
from reports import period_figures as figures
from reports import period_sql as q
from reports import suppression
from reports.charts import Chart, bar_chart
from reports.suppression import Cell

NATIONAL_ATTENDED = "about 38%"
SOURCES = (("form", "Practice referral form"), ("fhir", "GP system (FHIR)"),
           ("self", "Self-referral"))
STATUS_ORDER = (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS,
                ReferralStatus.COMPLETED, ReferralStatus.DECLINED,
                ReferralStatus.UNABLE_TO_CONTACT, ReferralStatus.REJECTED,
                ReferralStatus.CANCELLED)
CONNECTION_COLUMNS = (
    ("attended", "Attended", (ConnectionStatus.ATTENDED,)),
    ("did_not_attend", "Did not attend", (ConnectionStatus.DID_NOT_ATTEND,)),
    ("declined", "Declined", (ConnectionStatus.DECLINED,)),
    ("no_capacity", "No capacity", (ConnectionStatus.NO_CAPACITY,)),
    ("withdrawn", "Withdrawn", (ConnectionStatus.WITHDRAWN,)),
    ("open", "Not settled yet", (ConnectionStatus.SUGGESTED, ConnectionStatus.ACCEPTED,
                                 ConnectionStatus.TAKEN_ON)),
)
IMD_NOT_AVAILABLE = "IMD decile not available: no deprivation table has been imported."
PDF_STYLESHEETS = ("report.css",)


@dataclass(frozen=True)
class Breakdown:
    """One column of counts (or statistics) with its labels, total and chart."""

    title: str
    rows: tuple[tuple[str, Cell], ...]
    total: Cell | None
    chart: Chart | None = None
    note: str = ""


@dataclass(frozen=True)
class FirstContact:
    median_days: Cell
    contacted: Cell
    within: Cell
    judged: Cell
    within_percent: Cell


@dataclass(frozen=True)
class Connections:
    closed: Cell
    attended: Cell
    attended_percent: Cell
    contacts: Cell
    contacts_per_person: Cell
    columns: tuple[str, ...]
    # (category label, cells in column order, the category's total)
    by_category: tuple[tuple[str, tuple[Cell, ...], Cell], ...]
    chart: Chart | None = None


@dataclass(frozen=True)
class OutcomeLine:
    code: str
    score_id: str
    instrument: str
    score: str
    better: str  # "higher is better" / "lower is better"
    n: Cell
    baseline: Cell
    latest: Cell
    change: Cell


@dataclass(frozen=True)
class Inequality:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]
    chart: Chart | None = None
    note: str = ""
    available: bool = True


@dataclass(frozen=True)
class PeriodReport:
    scope: Scope
    period: Period
    made_at: datetime
    received: Cell
    reasons: Breakdown
    urgency: Breakdown
    sources: Breakdown
    statuses: Breakdown
    first_contact: FirstContact
    connections: Connections
    outcomes: tuple[OutcomeLine, ...]
    outcome_chart: Chart | None
    inequalities: tuple[Inequality, ...]
    unmet: object | None = None  # reports.unmet_needs.UnmetNeeds, hub reports only
    # reports.community_figures.Community, hub reports only (issue 15: volunteers, hours,
    # warm handovers, calls belong to the hub, never to a practice's or a PCN's report)
    community: object | None = None
    charts: tuple[Chart, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"{self.scope.label}: report for {self.period.label}"


def build(scope: Scope, period: Period) -> PeriodReport:
    """Every figure of the report for `scope` over `period`, suppressed and charted."""
    received_facts = q.first_contact_facts(scope, period)
    closed_facts = q.closed_facts(scope, period)
    people = q.closed_people(scope, period)
    total = figures.grouped_counts(received_facts, None).get(0, 0)
    reasons = _breakdown("Referrals received, by reason", figures.reasons(scope, period),
                         [(r.code, r.label) for r in REASONS], total=False,
                         note="A referral can give more than one reason, so these add up "
                              "to more than the referrals received.")
    urgency = _breakdown("Referrals received, by urgency",
                         _by_value(figures.received_by(Referral.urgency, scope, period)),
                         [("routine", "Routine"), ("urgent", "Urgent")])
    sources = _breakdown("Referrals received, by source",
                         figures.received_by(Referral.source, scope, period), SOURCES)
    statuses = _breakdown("Status at the end of the period",
                          _by_value(figures.status_at_end(received_facts)),
                          [(s.value, s.label) for s in STATUS_ORDER])
    first_contact = _first_contact(received_facts)
    connections = _connections(closed_facts, people, period)
    outcomes, outcome_chart = _outcomes(people, period)
    from reports.community_figures import build as build_community
    from reports.unmet_needs import build as build_unmet  # the hub's extra sections

    hub = scope.kind is ScopeKind.HUB
    unmet = build_unmet(scope, period) if hub else None
    community = build_community(scope, period) if hub else None
    return PeriodReport(
        scope=scope, period=period, made_at=utcnow(), received=suppression.count(total),
        reasons=reasons, urgency=urgency, sources=sources, statuses=statuses,
        first_contact=first_contact, connections=connections, outcomes=outcomes,
        outcome_chart=outcome_chart,
        inequalities=_inequalities(received_facts, closed_facts, people, period, outcomes),
        unmet=unmet, community=community)


def render_html(report: PeriodReport) -> str:
    """The report's body (headings, tables, charts) for a page to place."""
    return _render("reports/_period_body.html", report, pdf=False)


def render_pdf(report: PeriodReport) -> bytes:
    """The report as an A4 PDF in block layout, with page numbers."""
    # Imported here: WeasyPrint needs Pango, and the app must start without it (the
    # pages still work; /healthz says PDFs cannot be made).
    from reports.pdf import render_pdf as html_to_pdf

    return html_to_pdf(pdf_document(report), stylesheets=PDF_STYLESHEETS)


def pdf_document(report: PeriodReport) -> str:
    """The whole HTML document render_pdf prints (bench/reports.py prints it bare)."""
    return _render("reports/period_pdf.html", report, pdf=True)


def _render(name: str, report: PeriodReport, *, pdf: bool) -> str:
    # The app's templates without a request's context: the monthly job has none.
    return current_app.jinja_env.get_template(name).render(
        report=report, pdf=pdf, national_attended=NATIONAL_ATTENDED)


# --- assembling ----------------------------------------------------------------------


def _by_value(found: dict) -> dict[str, int]:
    """Enum keys (as the database hands them back) by their stored value."""
    return {getattr(key, "value", key): n for key, n in found.items()}


def _breakdown(title: str, found: dict, keys_labels, *, total: bool = True,
               note: str = "") -> Breakdown:
    keys_labels = list(keys_labels)
    known = {key for key, _ in keys_labels}
    keys_labels += [(key, str(key)) for key in sorted(found, key=str) if key not in known]
    cells = suppression.column(found, [key for key, _ in keys_labels], total=total)
    rows = tuple((label, cells[key]) for key, label in keys_labels)
    return Breakdown(title, rows, cells.get("total"), bar_chart(title, rows), note)


def _first_contact(received_facts) -> FirstContact:
    medians, targets = figures.first_contact(received_facts, None)
    middle = medians.get(0, figures.Median(None, 0))
    within, judged = targets.get(0, (0, 0))
    value = float(middle.value) if middle.value is not None else None
    return FirstContact(
        median_days=suppression.statistic(value, middle.n, unit=" days"),
        contacted=suppression.count(middle.n), within=suppression.count(within),
        judged=suppression.count(judged), within_percent=suppression.percentage(within, judged))


def _connections(closed_facts, people, period: Period) -> Connections:
    closed, contacts, attended = figures.closed_work(closed_facts, None).get(0, (0, 0, 0))
    found = figures.connection_outcomes(people, period)
    column_of = {status.value: key for key, _, statuses in CONNECTION_COLUMNS
                 for status in statuses}
    counts: dict[tuple[str, str], int] = {}
    for (category, status), n in found.items():
        key = (category, column_of.get(status, "open"))
        counts[key] = counts.get(key, 0) + n
    labels = [(c.code, c.name) for c in CATEGORIES] + [(figures.UNCATEGORISED, "No category")]
    present = [(code, label) for code, label in labels
               if any(cat == code for cat, _ in counts)]
    columns = [key for key, _, _ in CONNECTION_COLUMNS]
    table = suppression.table(counts, [code for code, _ in present], columns)
    rows = tuple((label, tuple(table.cell(code, c) for c in columns), table.row_totals[code])
                 for code, label in present)
    attended_rows = tuple((label, table.cell(code, "attended")) for code, label in present)
    return Connections(
        closed=suppression.count(closed), attended=suppression.count(attended),
        attended_percent=suppression.percentage(attended, closed),
        contacts=suppression.count(contacts),
        contacts_per_person=suppression.statistic(contacts / closed if closed else None,
                                                  closed),
        columns=tuple(label for _, label, _ in CONNECTION_COLUMNS), by_category=rows,
        chart=bar_chart("Connections attended, by offer category", attended_rows)
        if rows else None)


def _scores(code: str):
    try:
        return registry.get(code).scores
    except KeyError:  # measured with an instrument no longer configured
        return ()


def _outcomes(people, period: Period):
    lines, chart_rows = [], []
    for code in figures.instruments_measured(people, period):
        rules = _scores(code)
        changes = figures.outcome_changes(people, code, [r.id for r in rules], period,
                                          None)
        name = registry.get(code).label if rules else code
        for rule in rules:
            change = changes.get((0, rule.id), figures.Change(0, None, None, None))
            line = OutcomeLine(
                code=code, score_id=rule.id, instrument=name, score=rule.label,
                better="higher is better" if rule.higher_is_better else "lower is better",
                n=suppression.count(change.n),
                baseline=_statistic(_float(change.baseline), change.n, places=2),
                latest=_statistic(_float(change.latest), change.n, places=2),
                change=_signed(_statistic(_float(change.change), change.n, places=2)))
            lines.append(line)
            chart_rows.append((f"{name} {rule.label}", line.change))
    chart = bar_chart("Mean change from baseline", chart_rows) if chart_rows else None
    return tuple(lines), chart


def _float(value) -> float | None:
    return None if value is None else float(value)


NOBODY = Cell(None, "–", True)
# A statistic over fewer than 5 in a wide table: the same rule as suppression.statistic,
# in words short enough for an A4 column (the report's notes explain it).
FEW = "n<5"


def _statistic(value, n: int, **options) -> Cell:
    """A statistic in a breakdown: a dash for a group with nobody in it."""
    if n == 0:
        return NOBODY
    cell = suppression.statistic(value, n, **options)
    return Cell(None, FEW, True) if cell.hidden else cell


def _signed(cell: Cell) -> Cell:
    if cell.hidden or cell.value is None or cell.value <= 0:
        return cell
    return Cell(cell.value, "+" + cell.text)


# --- inequalities --------------------------------------------------------------------

INEQUALITY_COLUMNS = ("Referrals received", "Median days to first contact",
                      "First contact within target", "Closed in the period",
                      "Contacts per person", "Went to at least one activity")
SEX_ROWS = tuple((s.value, s.label) for s in Sex)


def _dimension_rows(dimension: str) -> list[tuple[object, str]]:
    if dimension == "age":
        return [(band, q.AGE_LABELS[band]) for band, _ in q.AGE_BANDS]
    if dimension == "sex":
        return list(SEX_ROWS)
    if dimension == "ethnicity":
        return [(group, group) for group in q.ETHNIC_ROWS]
    return [(d, f"Decile {d}" + (" (most deprived)" if d == 1 else
                                 " (least deprived)" if d == 10 else ""))
            if d else (0, "Postcode not in the table") for d in q.IMD_ROWS]


DIMENSION_TITLES = {"age": "By age band (at referral)", "sex": "By sex",
                    "ethnicity": "By ethnic category (NHS Data Dictionary)",
                    "imd": "By IMD decile (1 = most deprived tenth)"}


def _inequalities(received_facts, closed_facts, people, period: Period,
                  outcomes: tuple[OutcomeLine, ...]) -> tuple[Inequality, ...]:
    deprivation = figures.deprivation_loaded()
    measured = [(code, _scores(code)) for code in
                figures.instruments_measured(people, period)]
    shown_scores: dict[str, set[str]] = {}
    for line in outcomes:
        if not line.change.hidden:
            shown_scores.setdefault(line.code, set()).add(line.score_id)
    tables = []
    for dimension, title in DIMENSION_TITLES.items():
        if dimension == "imd" and not deprivation:
            tables.append(Inequality(title, (), (), note=IMD_NOT_AVAILABLE, available=False))
            continue
        tables.append(_inequality(dimension, title, received_facts, closed_facts, people,
                                  period, measured, shown_scores))
    return tuple(tables)


def _inequality(dimension, title, received_facts, closed_facts, people, period, measured,
                shown_scores):
    keys_labels = _dimension_rows(dimension)
    received = _by_value(figures.grouped_counts(received_facts, dimension))
    medians, targets = figures.first_contact(received_facts, dimension)
    medians, targets = _by_value(medians), _by_value(targets)
    work = _by_value(figures.closed_work(closed_facts, dimension))
    keys = [key for key, _ in keys_labels]
    received_cells = suppression.column(received, keys)
    closed_cells = suppression.column({k: v[0] for k, v in work.items()}, keys)
    columns = list(INEQUALITY_COLUMNS)
    outcome_cells: dict = {}
    for code, rules in measured:
        changes = figures.outcome_changes(people, code, [r.id for r in rules], period,
                                          dimension)
        for rule in rules:
            if rule.id not in shown_scores.get(code, ()):
                continue  # not shown for everyone, so not for any group either
            column = f"{registry.get(code).label} {rule.label}: mean change"
            columns.append(column)
            for (group, score), change in changes.items():
                if score == rule.id:
                    outcome_cells[(getattr(group, "value", group), column)] = _signed(
                        _statistic(_float(change.change), change.n, places=2))
    rows = []
    for key, label in keys_labels:
        middle = medians.get(key, figures.Median(None, 0))
        within, judged = targets.get(key, (0, 0))
        closed, contacts, attended = work.get(key, (0, 0, 0))
        cells = [received_cells[key],
                 _statistic(_float(middle.value), middle.n),
                 suppression.percentage(within, judged),
                 closed_cells[key],
                 _statistic(contacts / closed if closed else None, closed),
                 suppression.percentage(attended, closed)]
        cells += [outcome_cells.get((key, column), NOBODY)
                  for column in columns[len(INEQUALITY_COLUMNS):]]
        rows.append((label, tuple(cells)))
    rows.append(("Total", (received_cells["total"],) + ("",) * 2 + (closed_cells["total"],)
                 + ("",) * (len(columns) - 4)))
    chart = bar_chart(f"Referrals received {title[0].lower()}{title[1:]}",
                      [(label, received_cells[key]) for key, label in keys_labels])
    return Inequality(title, tuple(columns), tuple(rows), chart)

"""The period report's figures against a world small enough to work out by hand
(tests/reports/period_world.py has the table of referrals), on SQLite and PostgreSQL.
Each expected figure says how it was worked out."""
from __future__ import annotations

import re
from datetime import date

import pytest

from referrals.models import ConnectionStatus, Timepoint
from referrals.models import ReferralStatus as S
from referrals.scopes import Period, Scope, ScopeKind
from reports import period_report
from reports.period_report import IMD_NOT_AVAILABLE
from tests.counting import reads
from tests.reports.period_world import PERIOD, Writer, bst, build_world


def practice_scope(world) -> Scope:
    return Scope(ScopeKind.PRACTICE, world.practice.name, (world.practice.id,))


def hub_scope(world) -> Scope:
    return Scope(ScopeKind.HUB, world.team.name,
                 (world.practice.id, world.other_practice.id), world.team.id)


def texts(rows):
    return {label: cell.text for label, cell in rows}


@pytest.fixture
def world(db, make):
    return build_world(db.session, make, deprivation=True)


@pytest.fixture
def report(world):
    return period_report.build(practice_scope(world), PERIOD)


def test_received_counts_the_uk_days_of_the_period_only(report):
    # R1-R12: R11 at 23:30 UTC on 31 March is 1 April in the UK; R0 (22:30 UTC, still
    # 31 March) and R13 (1 July, UK) and the other practice's referral are left out.
    assert report.received.text == "12"


def test_reasons_count_each_reason_given_and_hide_1_to_4(report):
    reasons = texts(report.reasons.rows)
    assert reasons["Loneliness"] == "12"
    assert reasons["Bereavement"] == "<5"  # 3: R1, R2, R3
    assert reasons["Housing"] == "0"  # 0 is exact, not suppressed
    assert report.reasons.total is None  # reasons overlap: no total to subtract from


def test_urgency_hides_a_second_cell_so_the_small_one_cannot_be_subtracted(report):
    # routine 10, urgent 2 (R4, R10), total 12: urgent is <5, and routine would give it
    # away (12 - 10), so it is withheld too.
    assert texts(report.urgency.rows) == {"Routine": "[c]", "Urgent": "<5"}
    assert report.urgency.total.text == "12"


def test_source(report):
    assert texts(report.sources.rows) == {
        "Practice referral form": "7", "GP system (FHIR)": "0", "Self-referral": "5"}
    assert report.sources.total.text == "12"


def test_status_is_the_status_at_the_end_of_the_period_from_the_history(report):
    # R8 completed on 5 July: at the end of June it was in progress (R7, R8, R11).
    statuses = texts(report.statuses.rows)
    assert statuses == {"Received": "<5", "Accepted": "<5", "In progress": "<5",
                        "Completed": "5", "Declined": "<5", "Unable to contact": "0",
                        "Rejected": "0", "Cancelled": "0"}
    assert {label: cell.value for label, cell in report.statuses.rows if cell.value} == {
        "Received": 2, "Accepted": 1, "In progress": 3, "Completed": 5, "Declined": 1}


def test_first_contact_median_of_an_even_number_and_percentage_within_target(report):
    # Days (UK): R1 2, R2 0, R3 4, R4 10, R5 3, R6 7, R7 19, R8 10, R9 11, R11 1 (23:30
    # UTC on 31 March to 23:30 UK on 2 April: one UK day, two UTC dates). Sorted
    # 0 1 2 3 4 | 7 10 10 11 19: median (4 + 7) / 2 = 5.5.
    fc = report.first_contact
    assert fc.median_days.text == "5.5 days"
    assert fc.contacted.text == "10"
    # Within target: R1 R2 R3 R5 R6 (on the due day itself) R11 = 6. Missed: R4 R7 R8 R9,
    # and R10 still waiting with its day passed = 5. R12's day is after the period.
    assert (fc.within.text, fc.judged.text, fc.within_percent.text) == ("6", "11", "55%")


def test_contacts_and_activities_count_the_referrals_closed_in_the_period(report):
    c = report.connections
    # Closed in the period: R1-R6 and O1-O5 (received before it) = 11; R8 closed later.
    assert c.closed.text == "11"
    # 3 + 2 + 4 + 1 + 2 + 1 + 2 + 2 + 1 + 0 + 3 = 21 (R1's contact in July left out).
    assert c.contacts.text == "21"
    assert c.contacts_per_person.text == "1.9"  # 21 / 11 = 1.909
    # Attended by 30 June: R1 R2 R3 R5 O1 O2 (R4 went in July): 6 of 11 = 54.5%.
    assert (c.attended.text, c.attended_percent.text) == ("6", "55%")


def test_connection_outcomes_by_category_with_secondary_suppression(report):
    rows = {label: ([cell.text for cell in cells], total.text)
            for label, cells, total in report.connections.by_category}
    # Walking: attended 4, did not attend 1, no capacity 1, R4 accepted (not settled) 1.
    # Lunch: attended 2, declined 1 (a row total of 3 is itself small).
    assert rows == {
        "Walking and physical activity": (["<5", "<5", "0", "<5", "0", "<5"], "7"),
        "Lunch clubs and food": (["<5", "0", "<5", "0", "0", "0"], "<5"),
    }
    # Both attended counts are hidden, so the chart draws no bar for either.
    chart = report.connections.chart
    assert "Walking and physical activity (&lt;5)" not in chart.svg
    assert chart.not_drawn == ("Walking and physical activity (<5)",
                               "Lunch clubs and food (<5)")
    assert chart.svg == ""  # nothing left to draw: the note stands in for the chart


def test_outcome_change_from_baseline_to_the_latest_measure(report):
    lines = {(line.instrument, line.score): line for line in report.outcomes}
    ucla = lines[("UCLA-3", "Loneliness (3 to 9)")]
    # Baselines 8 7 9 6 8 (mean 7.6); latest 4 (closing after a follow-up of 6), 5 (the
    # July follow-up is after the period), 7, 6, 3 (mean 5.0); R4 has no follow-up.
    assert (ucla.n.text, ucla.baseline.text, ucla.latest.text, ucla.change.text) == (
        "5", "7.60", "5.00", "-2.60")
    ons4 = lines[("ONS4", "Life satisfaction")]
    # Four people: a mean over fewer than 5 is not shown, whatever it is.
    assert ons4.n.text == "<5"
    assert ons4.change.hidden and ons4.change.text == "n<5"


def table(report, title_start):
    found = next(t for t in report.inequalities if t.title.startswith(title_start))
    return found, {label: [str(cell) for cell in cells] for label, cells in found.rows}


def test_inequalities_by_sex_with_a_median_of_an_odd_number(report):
    found, rows = table(report, "By sex")
    assert found.columns[-1] == "UCLA-3 Loneliness (3 to 9): mean change"
    assert len(found.columns) == 7  # ONS4 is not shown overall, so not by group either
    # Women R1-R7: days 0 2 3 4 7 10 19, median 4; within 5 of 7 (rest 2: withheld);
    # all 11 closed referrals are women's.
    assert rows["Female"] == ["7", "4.0", "[c]", "11", "1.9", "55%", "-2.60"]
    # Men: three contacted (R8 R9 R11): no median; none closed.
    assert rows["Male"] == ["5", "n<5", "[c]", "0", "–", "–", "–"]
    assert rows["Total"][0] == "12" and rows["Total"][3] == "11"


def test_inequalities_by_age_use_the_uk_day_of_referral(report):
    _, rows = table(report, "By age band")
    # R11 turns 75 on 1 April (UK), the day it arrived: 75-84, not 65-74.
    assert [rows[band][0] for band in ("65 to 74", "75 to 84", "85 and over")] == [
        "9", "<5", "<5"]
    # R1-R9 days 0 2 3 4 7 10 10 11 19: median 7.
    assert rows["65 to 74"][1] == "7.0"


def test_inequalities_by_ethnic_category_keep_not_stated_and_not_known_apart(report):
    _, rows = table(report, "By ethnic category")
    # White (A) 6, Not stated (Z) 1, Not known (99) 5: Z is <5 and 99 withheld with it.
    assert (rows["White"][0], rows["Not stated (Z)"][0], rows["Not known (99)"][0]) == (
        "6", "<5", "[c]")
    # White R1-R6: days 0 2 3 4 7 10, an even number: (3 + 4) / 2.
    assert rows["White"][1] == "3.5"


def test_inequalities_by_imd_decile_from_the_postcode(report):
    found, rows = table(report, "By IMD decile")
    assert found.available
    assert rows["Decile 2"][0] == "6" and rows["Decile 9"][0] == "6"
    assert rows["Postcode not in the table"][0] == "0"


def test_without_a_deprivation_table_the_report_says_imd_is_not_available(db, make):
    world = build_world(db.session, make, deprivation=False)
    report = period_report.build(practice_scope(world), PERIOD)

    found, rows = table(report, "By IMD decile")
    assert not found.available and not rows
    assert found.note == IMD_NOT_AVAILABLE
    html = period_report.render_html(report)
    assert "IMD decile not available: no deprivation table has been imported" in html


def test_the_hub_report_adds_unmet_needs_and_people_waiting(world):
    report = period_report.build(hub_scope(world), PERIOD)
    assert report.received.text == "13"  # the other practice's referral too
    unmet = report.unmet
    # R1 befriending KB1 (full), R2 befriending KB1 (cost), R7 men's sheds KB2 (none
    # nearby); R0's need was recorded in March.
    assert unmet.recorded.text == "<5" and unmet.recorded.value == 3
    assert unmet.districts == ("KB1", "KB2")
    assert [(label, total.value) for label, _, total in unmet.by_category] == [
        ("Befriending", 2), ("Men's sheds", 1)]
    assert {label: cell.value for label, cell in unmet.by_reason}["Full"] == 1
    assert [(name, cell.text) for name, cell in unmet.no_capacity] == [("Walking group", "<5")]
    # Waiting at the end of June with the target day passed: R0 (due 7 April), R10 (due
    # 17 June) and the other practice's (due 8 May); not R12 (due 6 July).
    assert unmet.waiting.value == 3
    assert [(name, cell.value) for name, cell in unmet.waiting_by_practice] == [
        ("Kindlebury Surgery", 2), ("Otherton Surgery", 1)]
    assert period_report.build(practice_scope(world), PERIOD).unmet is None


def test_an_empty_period_shows_zeros_and_no_statistics(world):
    report = period_report.build(practice_scope(world), Period(PERIOD.end.replace(year=2025),
                                                               PERIOD.end.replace(year=2025)))
    assert report.received.text == "0"
    assert report.first_contact.median_days.hidden
    assert report.first_contact.within_percent.text == "–"


def test_charts_have_no_script_no_style_and_no_link(report):
    charts = [b.chart for b in (report.reasons, report.urgency, report.sources,
                                report.statuses)]
    charts += [report.connections.chart, report.outcome_chart]
    charts += [t.chart for t in report.inequalities if t.chart]
    assert sum(bool(chart.svg) for chart in charts) >= 7
    for chart in charts:
        svg = chart.svg.lower()
        assert not svg or svg.startswith("<svg")
        assert "<script" not in svg and "<style" not in svg
        assert "href" not in svg and "style=" not in svg and "javascript" not in svg
    # A hidden count is never a bar: urgency shows none of its two cells.
    assert report.urgency.chart.not_drawn == ("Routine ([c])", "Urgent (<5)")
    assert report.urgency.chart.svg == ""
    # The shown ones are: reasons draw loneliness (12), not bereavement (<5) nor the
    # zeros (the table has them).
    assert "Loneliness" in report.reasons.chart.svg
    assert report.reasons.chart.svg.count('class="rect reactive') == 1
    assert "Bereavement" not in report.reasons.chart.svg
    assert "Housing" not in report.reasons.chart.svg


def test_every_bar_carries_its_own_label_and_value_so_grey_print_reads(report):
    """One colour per chart, each bar named on the axis and its value printed beside it:
    nothing is told by colour alone."""
    for chart in (report.sources.chart, report.outcome_chart, report.inequalities[0].chart):
        bars = chart.svg.count('class="rect reactive')
        assert bars and chart.svg.count('class="value"') == bars
        assert len(set(re.findall(r'<rect[^>]*class="rect reactive[^"]*"[^>]*fill="([^"]+)"',
                                  chart.svg))) == 1
    sources = report.sources.chart.svg
    assert ">Practice referral form<" in sources and ">7<" in sources and ">5<" in sources
    assert report.reasons.chart.not_drawn == ("Bereavement (<5)",)


def test_the_figures_are_aggregated_in_sql_not_loaded_row_by_row(db, make, world):
    """The statements sent and the rows fetched do not grow with the referrals: adding 40
    more (each with contacts, a connection and measures) changes neither."""
    scope = practice_scope(world)

    def measure():
        db.session.expire_all()
        with reads(db) as found:
            period_report.build(scope, PERIOD)
        return len(found.statements), found.rows

    before = measure()
    w = Writer(db.session, make)
    for i in range(40):
        at = bst(f"2026-04-{1 + i % 28:02d} 11:00")
        referral = w.referral(world.practice, at, contact=at, due=PERIOD.start,
                              status=S.COMPLETED, closed=bst("2026-06-01 10:00"))
        w.contacts(referral, at, at)
        w.connection(referral, world.walk, (ConnectionStatus.SUGGESTED, at),
                     (ConnectionStatus.ATTENDED, at))
        w.measure(referral, "ucla3", Timepoint.BASELINE, date(2026, 4, 28), loneliness=7)
        w.measure(referral, "ucla3", Timepoint.CLOSING, date(2026, 5, 28), loneliness=5)
    db.session.flush()
    after = measure()

    assert period_report.build(scope, PERIOD).received.value == 52  # they were counted
    assert after == before, (before, after)
    assert before[0] < 80 and before[1] < 400


def test_render_pdf_works_without_a_request_for_the_monthly_job(report):
    """The contract another job calls: build, then render_pdf, with no request."""
    from tests.reports.conftest import pdftotext

    text = " ".join(pdftotext(period_report.render_pdf(report)).split())
    assert "Kindlebury Surgery" in text and "5.5 days" in text and "Page 1 of" in text
    # The charts are in the PDF too: their titles are text in the SVG.
    assert text.count("Referrals received, by source") == 2  # the table and its chart


def test_a_pcn_report_covers_the_practices_sharing_its_name(world):
    kindle = Scope(ScopeKind.PCN, "Kindle PCN", (world.practice.id,))
    other = Scope(ScopeKind.PCN, "Other PCN", (world.other_practice.id,))

    assert period_report.build(kindle, PERIOD).received.value == 12
    assert period_report.build(other, PERIOD).received.text == "<5"
    assert period_report.build(other, PERIOD).unmet is None

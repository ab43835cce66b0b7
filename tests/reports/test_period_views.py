"""The report pages and PDFs: who may see which scope, the period form's errors, the
audit trail, and the PDF read back with pdftotext."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, Role
from tests.reports.conftest import pdftotext
from tests.reports.period_world import build_world

PERIOD = "from=2026-04-01&to=2026-06-30"


@pytest.fixture
def world(db, make):
    return build_world(db.session, make, deprivation=True)


@pytest.fixture
def manager(world, login_as):
    return login_as(Role.MANAGER, practice=world.practice)


@pytest.fixture
def coordinator(world, login_as):
    return login_as(Role.COORDINATOR, team=world.team)


def page(client, url):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def test_a_manager_sees_their_practice_report_with_its_figures(client, manager):
    response, html = page(client, f"/reports/practice?{PERIOD}")

    assert response.status_code == 200
    assert "Kindlebury Surgery: 1 April to 30 June 2026" in html
    assert "5.5 days" in html and "55%" in html and "about 38%" in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'href="/reports/practice.pdf?from=2026-04-01&amp;to=2026-06-30"' in html


def test_a_manager_gets_404_for_another_practice_a_pcn_the_hub_and_unmet_needs(
        client, manager, world):
    for url in (f"/reports/practice?practice={world.other_practice.id}&{PERIOD}",
                f"/reports/practice.pdf?practice={world.other_practice.id}&{PERIOD}",
                f"/reports/pcn?pcn=Kindle+PCN&{PERIOD}", f"/reports/hub?{PERIOD}",
                f"/reports/hub.pdf?{PERIOD}", f"/reports/unmet-needs?{PERIOD}"):
        assert client.get(url).status_code == 404, url
    # Their own practice named explicitly is still theirs.
    assert client.get(f"/reports/practice?practice={world.practice.id}&{PERIOD}"
                      ).status_code == 200


def test_other_roles_may_not_see_reports(client, login_as, world):
    login_as(Role.REFERRER, practice=world.practice)
    assert client.get(f"/reports/practice?{PERIOD}").status_code == 403
    assert client.get("/reports").status_code == 403


def test_a_coordinator_sees_the_hub_its_pcns_and_practices_but_not_another_hub(
        client, coordinator, world, make):
    for url in (f"/reports/hub?{PERIOD}", f"/reports/pcn?pcn=Kindle+PCN&{PERIOD}",
                f"/reports/practice?practice={world.other_practice.id}&{PERIOD}",
                f"/reports/unmet-needs?{PERIOD}"):
        assert client.get(url).status_code == 200, url
    _, html = page(client, f"/reports/hub?{PERIOD}")
    assert "Unmet needs" in html and "People waiting past the first-contact target" in html
    _, html = page(client, f"/reports/unmet-needs?{PERIOD}")
    assert "Befriending" in html and "Walking group" in html and "Men&#39;s sheds" in html
    elsewhere = make.practice(name="Elsewhere")
    assert client.get(f"/reports/practice?practice={elsewhere.id}").status_code == 404
    assert client.get("/reports/pcn?pcn=Nowhere+PCN").status_code == 404
    assert client.get("/reports/practice").status_code == 404  # a coordinator must choose


def test_bad_dates_are_shown_next_to_their_fields(client, manager):
    response, html = page(client, "/reports/practice?from=2026-02-30&to=2026-01-01")

    assert response.status_code == 200
    assert "There is a problem" in html
    assert 'href="#report-from"' in html
    assert re.search(r'id="report-from-error"\s*>\s*<span[^>]*>Error: </span>'
                     r"Enter the start date as a real date", html)
    assert re.search(r'aria-describedby="report-from-hint report-from-error"', html)
    assert 'value="2026-02-30"' in html  # what was typed is kept
    assert "Error: " in html.split("<title>", 1)[1].split("</title>", 1)[0]
    # The PDF of a bad period goes back to the page with the errors.
    response = client.get("/reports/practice.pdf?from=2026-02-30&to=2026-01-01")
    assert response.status_code == 302 and "/reports/practice?" in response.location


def test_the_landing_page_sends_a_coordinator_to_the_report_they_chose(
        client, coordinator, world):
    response, html = page(client, "/reports")
    assert response.status_code == 200
    assert "PCN: Kindle PCN" in html and "Practice: Otherton Surgery" in html

    response = client.get(f"/reports?scope=pcn:Kindle+PCN&{PERIOD}")
    assert response.status_code == 302
    assert response.location.endswith("/reports/pcn?pcn=Kindle+PCN&from=2026-04-01&to=2026-06-30")
    _, html = page(client, "/reports?scope=practice:999999&from=2026-04-01&to=2026-06-30")
    assert "Choose what the report covers" in html
    _, html = page(client, "/reports?scope=hub&from=2026-04-01&to=")
    assert "Enter the end date" in html


def test_reports_is_in_the_navigation_of_managers_only_among_practice_staff(
        client, manager):
    _, html = page(client, "/reports")
    assert 'href="/reports"' in html.split("</header>", 1)[0]


def test_every_report_view_and_pdf_is_audited_without_a_patient(client, manager, db, world):
    client.get(f"/reports/practice?{PERIOD}")
    client.get(f"/reports/practice.pdf?{PERIOD}")

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "report")
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.patient_id, e.actor_id) for e in events] == [
        ("view", None, manager.id), ("print", None, manager.id)]
    assert events[0].detail == {"report": "practice", "practices": [world.practice.id],
                                "team": None, "from": "2026-04-01", "to": "2026-06-30"}


def test_the_pdf_has_the_figures_and_page_numbers(client, coordinator):
    response = client.get(f"/reports/hub.pdf?{PERIOD}")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "report-kindle-hub-20260401-20260630.pdf" in response.headers["Content-Disposition"]
    text = pdftotext(response.data)
    pages = text.count("\f")
    assert pages >= 2
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    flat = " ".join(text.split())
    assert "Kindle Hub" in flat and "1 April to 30 June 2026" in flat
    assert "5.5 days" in flat and "55%" in flat and "-2.60" in flat
    assert "Unmet needs" in flat and "Walking group" in flat
    assert "<5" in flat and "[c]" in flat


def test_the_report_links_to_its_csv_and_the_landing_page_to_the_other_reports(
        client, login_as, make):
    practice = make.practice(make.team())
    login_as(Role.MANAGER, practice=practice)
    page = client.get("/reports/practice?from=2026-04-01&to=2026-06-30").get_data(as_text=True)
    assert "/reports/practice.csv?from=2026-04-01&amp;to=2026-06-30" in page
    landing = client.get("/reports").get_data(as_text=True)
    assert "/reports/monthly" in landing and "/reports/national-counts?" in landing


def test_without_pdf_libraries_the_pdf_link_leads_to_the_page_and_says_why(
        client, login_as, make, monkeypatch):
    from reports import readiness

    monkeypatch.setattr(readiness, "pdf_unavailable", lambda: "OSError: no Pango")
    login_as(Role.MANAGER, practice=make.practice(make.team()))
    response = client.get("/reports/practice.pdf?from=2026-04-01&to=2026-06-30")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reports/practice?")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "cannot make PDFs" in page

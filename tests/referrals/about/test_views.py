"""The public privacy notice, accessibility statement and service status page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy.exc import OperationalError

from referrals import health
from referrals.models import Role

FOOTER_LINKS = {"/privacy": "Privacy notice", "/accessibility": "Accessibility statement",
                "/status": "Service status"}


def footer_links(page: str) -> dict[str, str]:
    footer = page[page.index('<footer'):page.index('</footer>')]
    links = re.findall(r'<a[^>]*href="([^"]+)"[^>]*>(.*?)</a>', footer, re.DOTALL)
    return {href: re.sub(r"\s+", " ", text).strip() for href, text in links}


@pytest.fixture
def checks(app, monkeypatch):
    """Replace the registered checks: each name answers its reason (None: working)."""

    def answer(**reasons: str | None) -> None:
        monkeypatch.setitem(app.extensions, health.CHECKS, [
            health.Check(name, name.upper(), lambda reason=reason: reason)
            for name, reason in reasons.items()])

    return answer


def test_the_public_site_and_staff_pages_link_the_three_pages_from_the_footer(client, login_as):
    for path in ("/directory", "/login"):
        links = footer_links(client.get(path).get_data(as_text=True))
        assert FOOTER_LINKS.items() <= links.items(), f"{path} footer: {links}"
    login_as(Role.CONNECTOR)
    links = footer_links(client.get("/caseload").get_data(as_text=True))
    assert FOOTER_LINKS.items() <= links.items(), f"a staff page's footer: {links}"


def test_the_privacy_notice_says_what_is_held_why_who_sees_it_how_long_and_the_rights(
        app, client):
    app.config.update(ORGANISATION_NAME="Vale Connect CIC", PRIVACY_EMAIL="dpo@vale.example",
                      RECORD_RETENTION_YEARS=6)

    response = client.get("/privacy")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    for heading in ("What information we hold", "Why we use it", "Our legal reasons",
                    "Who can see it", "How long we keep it", "Your rights",
                    "Contact us or complain"):
        assert f"<h2>{heading}</h2>" in page
    assert "Vale Connect CIC" in page
    assert 'href="mailto:dpo@vale.example"' in page
    assert "for 6 years after your referral closes" in page
    assert "public interest" in page and "ico.org.uk" in page


def test_the_accessibility_statement_names_the_standard_known_problems_and_enforcement(
        app, client):
    app.config.update(ACCESSIBILITY_EMAIL="access@vale.example")

    page = client.get("/accessibility").get_data(as_text=True)

    assert "WCAG" in page and "2.2 at level AA" in page
    assert "<h3>What is not accessible</h3>" in page
    assert 'href="mailto:access@vale.example"' in page
    assert "Equality and Human Rights Commission" in page
    assert "Equality Advisory and Support Service" in page


def test_the_status_page_says_kindly_is_working_normally_when_every_check_passes(
        client, checks):
    checks(pdf=None)

    response = client.get("/status")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Kindly is working normally" in page
    assert "Some things are not working" not in page
    assert "Saving and finding records" in page and "Outcome letters and reports" in page
    assert "Not working" not in page


def test_the_status_page_says_what_is_not_working_and_what_it_means_but_not_why(
        client, checks):
    checks(pdf="OSError: cannot load library 'libpango-1.0-0'")

    response = client.get("/status")
    page = response.get_data(as_text=True)

    assert response.status_code == 200  # degraded, as /healthz: people can go on working
    assert "Some things are not working" in page
    assert "working normally" not in page
    assert "each letter waits and is made once this is fixed" in page
    assert "libpango" not in page  # the reason is for the administrator, not the public


def test_a_check_the_page_has_no_words_for_shows_its_own_label(client, checks):
    checks(pdf=None, mail="no answer from smtp.example")

    page = client.get("/status").get_data(as_text=True)

    assert "MAIL" in page and "Some things are not working" in page


def test_the_status_page_answers_503_when_the_database_does_not(client, checks, monkeypatch):
    checks(pdf=None)

    def no_database(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(health.db.session, "execute", no_database)
    response = client.get("/status")

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Some things are not working" in page
    assert "Nothing can be looked up or saved" in page


def test_the_pages_are_public(app):
    for endpoint in ("about.privacy", "about.accessibility", "about.status"):
        assert getattr(app.view_functions[endpoint], "access", None) == "public"

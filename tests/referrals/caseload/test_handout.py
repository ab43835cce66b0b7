"""The chosen offers given to the person: printed (plain or large print) or emailed."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from referrals.caseload import handout
from referrals.matching import service as matching
from referrals.models import (
    AuditEvent,
    ConnectionKind,
    ConnectionStatus,
    ContactMethod,
    OutboxMessage,
)
from referrals.models import ReferralStatus as S
from referrals.notifications import mail
from tests.referrals.caseload.test_views import local_today, sign_in, workspace_url
from tests.referrals.intake.conftest import Page
from tests.referrals.matching import test_connections as connections

hub, offers = connections.hub, connections.offers

EMAIL = "ada@example.org"


@pytest.fixture
def referral(make, hub, offers):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS,
                             person={"email": EMAIL, "preferred_contact": ContactMethod.EMAIL})
    hub.connector.phone = "01632 960111"
    walkers = offers("Kindlebury Walkers")
    walkers.description = "A gentle walk round the park, then tea"
    walkers.contact_phone, walkers.email = "01632 960222", "walk@example.org"
    choir = offers("Thursday Choir", days="TH", is_free=False)
    choir.fees_description = "£2 a week"
    declined = offers("Bridge Club")
    for offer, note in ((walkers, "Worried about her knee"), (choir, ""), (declined, "")):
        matching.record_connection(referral, offer, kind=ConnectionKind.SIGNPOST, notes=note,
                                   actor=hub.connector, today=local_today())
    matching.update_connection(referral.connections[-1], status=ConnectionStatus.DECLINED,
                               on=local_today(), actor=hub.connector, today=local_today())
    return referral


def test_the_handout_lists_the_chosen_offers_with_what_when_where_cost_and_contact(referral):
    made = handout.build_handout(referral, today=local_today())
    assert [o.name for o in made.offers] == ["Kindlebury Walkers", "Thursday Choir"]
    walkers, choir = made.offers
    assert walkers.what == "A gentle walk round the park, then tea"
    assert walkers.when.startswith("Tuesdays") and walkers.cost == "Free"
    assert walkers.where == ["Kindlebury Walkers hall, LS1 1AA"]
    assert walkers.contact == ["Phone 01632 960222", "Email walk@example.org"]
    assert choir.cost == "£2 a week" and choir.when.startswith("Thursdays")
    text = handout.as_text(made)
    assert text.startswith("Dear Ada,")
    assert "1. Kindlebury Walkers (Kindlebury Walkers Trust)" in text
    assert "How to get in touch: Phone 01632 960222" in text and "Cost: £2 a week" in text
    assert "Bridge Club" not in text  # declined: not chosen
    assert "knee" not in text  # nothing anyone wrote about the person


@pytest.mark.parametrize("large", [False, True])
def test_the_printable_page_in_plain_and_large_print_is_audited(client, db, hub, referral,
                                                                large):
    sign_in(client, db, hub.connector)
    url = f"{workspace_url(referral)}/offers-to-give" + ("?print=large" if large else "")
    page = Page(client.get(url))
    assert page.response.status_code == 200
    [article] = page.findall(".//article")
    assert ("kindly-handout--large" in article.get("class")) is large
    text = " ".join(" ".join(article.itertext()).split())
    assert "Groups and services for Ada Lovelace" in text
    assert "What it is A gentle walk round the park, then tea" in text
    assert "Cost £2 a week" in text and "Phone 01632 960222" in text
    assert "Bridge Club" not in text and "knee" not in text
    assert "01632 960111" in text  # the connector, to get back in touch
    read = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == referral.id, AuditEvent.action == "read")).all()
    assert read[-1].detail == {"view": "offers-to-give"}


def test_large_print_is_at_least_16_point():
    rules = (Path(__file__).resolve().parents[3] / "static" / "kindly.css").read_text()
    large = rules[rules.index(".kindly-handout--large, "):]
    size = float(large.split("font-size:", 1)[1].split("pt", 1)[0])
    assert size >= 16


def test_emailing_without_a_mail_server_keeps_it_in_the_outbox_and_says_so(
        client, db, hub, referral):
    sign_in(client, db, hub.connector)
    url = f"{workspace_url(referral)}/offers-to-give"
    assert f"Email to {EMAIL}" in Page(client.get(url)).text()
    response = client.submit(f"{url}/email", {}, page=url)
    assert response.status_code == 302 and response.location.endswith(url)
    [kept] = db.session.scalars(select(OutboxMessage)).all()
    assert kept.to == EMAIL and "Dear Ada," in kept.body and kept.sent_at is None
    shown = Page(client.get(url)).text()
    assert f"the email to {EMAIL} was kept in the development outbox, not sent" in shown
    [sent] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "email-offers")).all()
    assert (sent.entity_id, sent.patient_id) == (referral.id, referral.patient_id)
    assert sent.detail == {"delivery": "kept", "offers": 2}


def test_emailing_goes_over_smtp_when_it_is_configured(app, client, db, hub, referral,
                                                       monkeypatch):
    sent = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.org")
    monkeypatch.setattr(mail, "send_email", lambda config, **message: sent.append(message))
    sign_in(client, db, hub.connector)
    url = f"{workspace_url(referral)}/offers-to-give"
    client.submit(f"{url}/email", {}, page=url)
    assert f"The offers are on their way to {EMAIL}." in Page(client.get(url)).text()
    [message] = sent
    assert message["to"] == EMAIL
    assert message["subject"] == "The groups and services we talked about"
    assert "Thursday Choir" in message["body"]


def test_no_email_unless_the_person_asked_to_be_emailed(client, db, hub, referral):
    referral.patient.preferred_contact = ContactMethod.PHONE
    sign_in(client, db, hub.connector)
    url = f"{workspace_url(referral)}/offers-to-give"
    page = Page(client.get(url))
    assert "has not asked to be emailed" in page.text()
    response = client.submit(f"{url}/email", {}, page=url)  # a stale page's button
    assert response.status_code == 302
    assert "The email was not sent: Ada has not asked to be emailed" in Page(
        client.get(url)).text()
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "email-offers")).all() == []

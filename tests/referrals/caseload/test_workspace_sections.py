"""The workspace as section pages: each a real URL in the sub-navigation, audited as a read,
and every form sends the connector back to the section it belongs to."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from referrals import workflow
from referrals.caseload import service
from referrals.models import (
    AuditEvent,
    ContactChannel,
    ContactOutcome,
    FollowUpStatus,
    ReferralStatus,
    utcnow,
)
from tests.referrals.caseload.test_views import contact_form, local_today, sign_in, workspace_url

S = ReferralStatus
# (tail of the URL, the tab marked current, a heading the section shows)
SECTIONS = [
    ("", "Summary", "The person"),
    ("/contacts", "Contacts", "Record a contact"),
    ("/follow-ups", "Follow-ups", "Schedule a follow-up"),
    ("/sharing-and-risks", "Sharing and risks", "Risks to anyone visiting"),
    ("/history", "History", "Timeline"),
    ("/suggestions", "Offers and connections", "Suggested offers"),
    ("/measures", "Outcome measures", "Change from baseline"),
    ("/volunteers", "Volunteers", "Ask for a volunteer"),  # issue 15 (matching)
]


@pytest.fixture
def referral(make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector,
                             what_matters="Seeing friends")
    service.schedule_follow_up(referral, actor=hub.connector, due_on=local_today()
                               + timedelta(days=7), method=ContactChannel.PHONE, purpose="Check in",
                               today=local_today())
    return referral


def current_tab(page) -> str:
    [current] = page.findall(".//nav[@aria-label='Sections of this referral']"
                             "//a[@aria-current='page']")
    return " ".join(current.itertext())


def test_each_section_is_its_own_page_in_the_sub_navigation_and_is_audited(
        client, db, hub, referral, page):
    sign_in(client, db, hub.connector)
    for tail, tab, heading in SECTIONS:
        shown = page(client.get(workspace_url(referral) + tail))
        assert shown.response.status_code == 200, tail
        assert current_tab(shown) == tab
        nav = shown.find(".//nav[@aria-label='Sections of this referral']")
        assert [a.get("href") for a in nav.findall(".//a")] == [
            workspace_url(referral) + t for t in (
                "", "/contacts", "/follow-ups", "/suggestions", "/volunteers", "/measures",
                "/sharing-and-risks", "/history")]
        assert any(heading == " ".join(h.itertext()).strip()
                   for h in shown.findall(".//h2") + shown.findall(".//h3")), (tail, heading)
        ids = [e.get("id") for e in shown.root.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), f"duplicate ids on {tail or 'the summary'}"
    reads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == referral.id, AuditEvent.action == "read")).all()
    assert len(reads) == len(SECTIONS)
    assert {r.patient_id for r in reads} == {referral.patient_id}
    views = {(r.detail or {}).get("view") for r in reads}
    assert {"workspace-summary", "workspace-contacts", "workspace-follow-ups",
            "workspace-sharing", "workspace-history"} <= views


def test_each_section_shows_only_its_own_part(client, db, hub, referral, page):
    sign_in(client, db, hub.connector)
    summary = page(client.get(workspace_url(referral)))
    assert "Seeing friends" in summary.text()
    assert summary.label_for("contact_date") == [] and summary.label_for("due_on") == []
    follow_ups = page(client.get(workspace_url(referral) + "/follow-ups"))
    assert follow_ups.label_for("due_on") and follow_ups.label_for("contact_date") == []
    # Each scheduled follow-up can be updated from here.
    [follow_up] = referral.follow_ups
    assert follow_ups.links()[f"Update follow-up due {follow_up.due_on:%-d %b %Y}"] == (
        f"{workspace_url(referral)}/follow-ups/{follow_up.id}")


def test_forms_redirect_back_to_their_own_section_and_a_refresh_resends_nothing(
        client, db, hub, referral):
    sign_in(client, db, hub.connector)
    url = workspace_url(referral)
    response = client.submit(f"{url}/contacts", contact_form(), page=f"{url}/contacts")
    assert response.status_code == 302
    assert response.location.endswith(f"{url}/contacts#contacts")
    assert client.get(response.location).status_code == 200  # a GET: a refresh resends nothing
    assert len(referral.contacts) == 1

    response = client.submit(f"{url}/follow-ups", {
        "due_on": (local_today() + timedelta(days=3)).strftime("%d/%m/%Y"),
        "follow_up_method": "phone", "purpose": "Review"}, page=f"{url}/follow-ups")
    assert response.location.endswith(f"{url}/follow-ups#follow-ups")

    follow_up = next(f for f in referral.follow_ups if f.purpose == "Review")
    response = client.submit(f"{url}/follow-ups/{follow_up.id}", {"outcome": "done"},
                             page=f"{url}/follow-ups/{follow_up.id}")
    assert response.location.endswith(f"{url}/follow-ups#follow-ups")
    db.session.refresh(follow_up)
    assert follow_up.status is FollowUpStatus.DONE


def test_a_form_with_errors_is_shown_again_on_its_own_section(client, db, hub, referral, page):
    sign_in(client, db, hub.connector)
    url = workspace_url(referral)
    shown = page(client.submit(f"{url}/contacts", contact_form(outcome=None),
                               page=f"{url}/contacts"))
    assert shown.response.status_code == 422
    assert current_tab(shown) == "Contacts"
    assert shown.error_for("outcome") == "Select what happened"
    assert shown.value_of("notes").strip() == "Talked about the allotment"


def test_a_contact_refused_because_the_referral_closed_keeps_what_was_typed_on_contacts(
        client, db, hub, referral, page):
    sign_in(client, db, hub.connector)
    url = workspace_url(referral)
    token_page = f"{url}/contacts"
    client.get(token_page)
    workflow.transition(referral, S.DECLINED, actor=hub.coordinator, reason="Moved away")
    db.session.commit()
    shown = page(client.submit(f"{url}/contacts",
                               contact_form(notes="Rang about the lunch club"), page=token_page))
    assert shown.response.status_code == 409
    assert current_tab(shown) == "Contacts"
    assert "Rang about the lunch club" in shown.text()  # nothing typed is lost


def test_each_section_reads_the_rows_it_points_to_with_the_referral(client, db, hub, referral):
    """Person, team, practice, referrer and connector ride on the referral's own SELECT,
    and whether details wait to be checked too; once someone has been reached the summary
    reads no contacts (it counts failed attempts only before). Every page still reads the
    signed-in user once."""
    service.record_contact(referral, actor=hub.connector, at=utcnow() - timedelta(hours=1),
                           method=ContactChannel.PHONE, outcome=ContactOutcome.SPOKE)
    sign_in(client, db, hub.connector)
    engine = db.session.get_bind()
    for tail, _, _ in SECTIONS[:5]:
        seen = []

        def count(conn, cursor, statement, *args, seen=seen):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(workspace_url(referral) + tail).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        # The table of each statement's first column: what a statement of its own loaded.
        loaded = [m.group(1) for s in seen if (m := re.match(r"\s*SELECT (\w+)\.", s))]
        assert loaded.count("user_account") == 1, (tail, loaded)
        assert not {"patient", "team", "practice", "patient_discrepancy"} & set(loaded), (
            tail, loaded)
        if tail == "":
            assert "contact" not in loaded

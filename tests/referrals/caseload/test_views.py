"""The connector's screens: triage queue, my caseload, the workspace and its forms."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from referrals.models import (
    AuditEvent,
    Contact,
    ContactChannel,
    ContactOutcome,
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralStatus,
    Role,
    Urgency,
    utcnow,
)

S = ReferralStatus
LONDON = ZoneInfo("Europe/London")


def sign_in(client, db, user, password="correct horse battery"):
    db.session.commit()
    response = client.submit("/login", {"email": user.email, "password": password})
    assert response.status_code == 302
    return user


@pytest.fixture
def connector(client, db, hub):
    return sign_in(client, db, hub.connector)


def workspace_url(referral) -> str:
    return f"/caseload/referrals/{referral.id}"


def local_today() -> date:
    return utcnow().astimezone(LONDON).date()


def contact_form(**overrides):
    an_hour_ago = utcnow().astimezone(LONDON) - timedelta(hours=1)
    data = {
        "contact_date": an_hour_ago.strftime("%d/%m/%Y"),
        "contact_time": an_hour_ago.strftime("%H:%M"),
        "method": "phone",
        "outcome": "spoke",
        "duration": "15",
        "notes": "Talked about the allotment",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- navigation, queue and caseload ---------------------------------------------


def test_a_connector_lands_on_their_caseload_with_queue_in_the_navigation(client, connector):
    response = client.get("/", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.request.path == "/caseload"
    assert 'href="/caseload/queue"' in html and "My caseload" in html


def test_the_queue_shows_unassigned_referrals_and_accepting_takes_one(client, db, make, hub,
                                                                      connector, page):
    referral = make.referral(hub.practice, urgency=Urgency.URGENT)
    referral.first_contact_due = local_today() - timedelta(days=1)
    colleagues = make.referral(hub.practice, connector=hub.colleague)
    db.session.commit()

    queue = page(client.get("/caseload/queue"))
    assert referral.reference in queue.text() and "Overdue" in queue.text()
    assert colleagues.reference not in queue.text()

    response = client.submit(f"/caseload/referrals/{referral.id}/accept", {},
                             page="/caseload/queue")
    assert response.status_code == 302
    assert response.location.endswith(workspace_url(referral))
    db.session.refresh(referral)
    assert referral.status is S.ACCEPTED and referral.connector_id == connector.id
    assert referral.reference in client.get("/caseload").get_data(as_text=True)


def test_a_coordinator_sees_the_queue_but_cannot_accept(client, db, make, hub, page):
    referral = make.referral(hub.practice)
    sign_in(client, db, hub.coordinator)
    queue = page(client.get("/caseload/queue"))
    assert referral.reference in queue.text()
    assert queue.find(f".//form[@action='/caseload/referrals/{referral.id}/accept']") is None
    response = client.submit(f"/caseload/referrals/{referral.id}/accept", {},
                             page="/caseload/queue")
    assert response.status_code == 403


def test_rejecting_without_a_reason_shows_the_error_by_the_field(client, db, make, hub,
                                                                 connector, page):
    referral = make.referral(hub.practice)
    db.session.commit()
    url = f"/caseload/referrals/{referral.id}/reject"

    response = page(client.submit(url, {"reason": "  "}, page=workspace_url(referral)))

    assert response.response.status_code == 422
    assert response.error_for("reason") == "Say why this referral is not suitable"
    assert response.summary_links() == {"#reason": "Say why this referral is not suitable"}
    db.session.refresh(referral)
    assert referral.status is S.RECEIVED

    response = client.submit(url, {"reason": "Needs secondary care"},
                             page=workspace_url(referral))
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status is S.REJECTED


def test_the_caseload_lists_overdue_first_with_risks_and_counts(client, db, make, hub,
                                                                connector, page):
    calm = make.referral(hub.practice, status=S.IN_PROGRESS, connector=connector)
    late = make.referral(hub.practice, status=S.ACCEPTED, connector=connector,
                         risks=["Lives alone"], no_known_risks=False)
    late.first_contact_due = local_today() - timedelta(days=2)
    db.session.commit()

    listing = page(client.get("/caseload"))

    rows = listing.findall(".//table[@id='caseload']/tbody/tr")
    assert [r.find("td/span[@class='kindly-cell']/a").text for r in rows] == [late.patient.full_name,
                                                   calm.patient.full_name]
    assert "First contact overdue" in listing.text() and "Risks" in listing.text()
    filtered = page(client.get("/caseload?overdue=1"))
    assert len(filtered.findall(".//table[@id='caseload']/tbody/tr")) == 1
    assert client.get("/caseload?status=nonsense&overdue=%00").status_code == 200


def test_the_caseload_points_to_referrals_routed_to_me_awaiting_acceptance(
        client, db, make, hub, connector, page):
    assert page(client.get("/caseload")).find(".//*[@id='waiting-to-accept']") is None
    make.referral(hub.practice, status=S.RECEIVED, connector=connector)
    make.referral(hub.practice, status=S.RECEIVED, connector=connector)
    make.referral(hub.practice, status=S.RECEIVED, connector=hub.colleague)
    db.session.commit()

    notice = page(client.get("/caseload")).find(".//*[@id='waiting-to-accept']")
    assert "2 new referrals routed to you are waiting" in "".join(notice.itertext())
    assert notice.find(".//a").get("href") == "/caseload/queue"


def test_the_caseload_says_how_long_since_the_last_contact(client, db, make, hub, connector,
                                                          page):
    from referrals.caseload import service

    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=connector)
    service.record_contact(referral, actor=connector, at=utcnow() - timedelta(days=3),
                           method=ContactChannel.PHONE, outcome=ContactOutcome.NO_ANSWER)
    quiet = make.referral(hub.practice, status=S.ACCEPTED, connector=connector)
    db.session.commit()

    rows = {r.find("td/span[@class='kindly-cell']/span").text: "".join(r.itertext()) for r in
            page(client.get("/caseload")).findall(".//table[@id='caseload']/tbody/tr")}

    assert "3 days ago" in rows[referral.reference]
    assert "No contact yet" in rows[quiet.reference]


# --- the workspace ----------------------------------------------------------------


def test_the_workspace_shows_the_person_risks_and_is_audited(client, db, make, hub, connector,
                                                             page):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=connector,
                             risks=["Aggressive dog"], no_known_risks=False,
                             what_matters="Seeing friends")
    db.session.commit()

    workspace = page(client.get(workspace_url(referral)))

    assert workspace.response.status_code == 200
    text = workspace.text()
    assert "Known risks" in text and "Aggressive dog" in text and "Seeing friends" in text
    assert 'nhsuk-card--warning' in workspace.html
    sections = {"contacts": ("contact_date", "contact_time", "method", "outcome", "duration",
                             "notes"),
                "follow-ups": ("due_on", "follow_up_method", "purpose")}
    for section, fields in sections.items():
        section_page = page(client.get(f"{workspace_url(referral)}/{section}"))
        assert section_page.response.status_code == 200
        for field in fields:
            assert section_page.label_for(field), field
        ids = [e.get("id") for e in section_page.root.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), "duplicate ids"
    ids = [e.get("id") for e in workspace.root.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    reads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == referral.id, AuditEvent.action == "read")).all()
    assert len(reads) == 3


def test_recording_the_first_successful_contact_starts_the_work(client, db, make, hub,
                                                               connector):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=connector)
    db.session.commit()
    version = referral.version

    response = client.submit(f"/caseload/referrals/{referral.id}/contacts", contact_form(),
                             page=workspace_url(referral))

    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status is S.IN_PROGRESS
    assert referral.first_contact_at is not None
    assert referral.version > version
    (contact,) = db.session.scalars(select(Contact).where(Contact.referral_id == referral.id))
    assert (contact.method, contact.outcome, contact.duration_minutes) == (
        ContactChannel.PHONE, ContactOutcome.SPOKE, 15)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"contact_date": "31/02/2026"}, "contact_date"),
        ({"contact_date": "yesterday"}, "contact_date"),
        ({"contact_time": "25:99"}, "contact_time"),
        ({"method": "pigeon"}, "method"),
        ({"outcome": None}, "outcome"),
        ({"duration": "601"}, "duration"),
        ({"duration": "-5"}, "duration"),
        ({"duration": "9" * 40}, "duration"),
        ({"notes": "x" * 5000}, "notes"),
    ],
)
def test_a_bad_contact_is_shown_again_with_the_error_and_nothing_saved(
        client, db, make, hub, connector, page, overrides, field):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=connector)
    db.session.commit()

    response = page(client.submit(f"/caseload/referrals/{referral.id}/contacts",
                                  contact_form(**overrides), page=workspace_url(referral)))

    assert response.response.status_code == 422
    assert response.error_for(field), response.text()[:500]
    assert f"#{field}" in response.summary_links()
    assert db.session.scalars(select(Contact).where(Contact.referral_id == referral.id)).all() == []


def test_a_contact_in_the_future_is_refused(client, db, make, hub, connector, page):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=connector)
    db.session.commit()
    tomorrow = (utcnow().astimezone(LONDON) + timedelta(days=1)).strftime("%d/%m/%Y")
    response = page(client.submit(f"/caseload/referrals/{referral.id}/contacts",
                                  contact_form(contact_date=tomorrow),
                                  page=workspace_url(referral)))
    assert response.response.status_code == 422
    assert response.error_for("contact_date") == "The contact cannot be in the future"


def test_unable_to_contact_is_offered_only_after_the_teams_attempts(client, db, make, hub,
                                                                   connector, page):
    hub.team.max_contact_attempts = 2
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=connector)
    db.session.commit()
    url = f"/caseload/referrals/{referral.id}/contacts"

    client.submit(url, contact_form(outcome="no-answer"), page=workspace_url(referral))
    assert "Close as unable to contact" not in client.get(workspace_url(referral)).get_data(
        as_text=True)
    close_page = page(client.get(f"/caseload/referrals/{referral.id}/close"))
    assert close_page.by_id("closing-3") is None
    assert "unable_to_contact" not in [e.get("value") for e in close_page.findall(
        ".//input[@name='closing']")]

    client.submit(url, contact_form(outcome="wrong-number"), page=workspace_url(referral))
    assert "Close as unable to contact" in client.get(workspace_url(referral)).get_data(
        as_text=True)
    db.session.refresh(referral)
    assert referral.status is S.ACCEPTED  # offered, not done

    close_url = f"/caseload/referrals/{referral.id}/close"
    response = client.submit(close_url, {"closing": "unable_to_contact", "note": "Tried twice"})
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status is S.UNABLE_TO_CONTACT


@pytest.mark.parametrize(("closing", "status"), [("declined", S.DECLINED),
                                                 ("completed", S.COMPLETED)])
def test_closing_needs_a_note(client, db, make, hub, connector, page, closing, status):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=connector)
    db.session.commit()
    url = f"/caseload/referrals/{referral.id}/close"

    response = page(client.submit(url, {"closing": closing, "note": ""}))
    assert response.response.status_code == 422
    assert response.error_for("note") == "Write a closing note"

    response = page(client.submit(url, {"closing": "made-up", "note": "x"}))
    assert response.response.status_code == 422

    assert client.submit(url, {"closing": closing, "note": "All done"}).status_code == 302
    db.session.refresh(referral)
    assert referral.status is status
    # Closed: the workspace is read-only now.
    html = client.get(workspace_url(referral)).get_data(as_text=True)
    assert "Record a contact" not in html and "Close this referral" not in html


def test_follow_ups_schedule_done_missed_and_reschedule(client, db, make, hub, connector, page):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=connector)
    db.session.commit()
    today = local_today()
    schedule_url = f"/caseload/referrals/{referral.id}/follow-ups"

    past = page(client.submit(schedule_url, {
        "due_on": (today - timedelta(days=1)).strftime("%d/%m/%Y"),
        "follow_up_method": "phone", "purpose": "Review"}, page=workspace_url(referral)))
    assert past.response.status_code == 422
    assert past.error_for("due_on") == "The follow-up date cannot be in the past"

    for days in (3, 10):
        response = client.submit(schedule_url, {
            "due_on": (today + timedelta(days=days)).strftime("%d/%m/%Y"),
            "follow_up_method": "home-visit", "purpose": f"Visit in {days} days"},
            page=workspace_url(referral))
        assert response.status_code == 302
    first, second = db.session.scalars(
        select(FollowUp).where(FollowUp.referral_id == referral.id).order_by(FollowUp.due_on))
    base = f"/caseload/referrals/{referral.id}/follow-ups"

    # A browser always sends the blank "new date" box along with done or missed.
    missed = page(client.submit(f"{base}/{first.id}",
                                {"outcome": "missed", "note": "", "new_due_on": ""}))
    assert missed.response.status_code == 422 and missed.error_for("note") == "Say what happened"

    done = client.submit(f"{base}/{first.id}", {"outcome": "done", "new_due_on": ""})
    assert done.status_code == 302
    new_date = today + timedelta(days=14)
    response = client.submit(f"{base}/{second.id}", {
        "outcome": "rescheduled", "new_due_on": new_date.strftime("%d/%m/%Y"),
        "note": "Away that week"})
    assert response.status_code == 302

    db.session.expire_all()
    rows = {f.id: f for f in db.session.scalars(
        select(FollowUp).where(FollowUp.referral_id == referral.id))}
    assert rows[first.id].status is FollowUpStatus.DONE
    assert rows[second.id].status is FollowUpStatus.RESCHEDULED
    (replacement,) = [f for f in rows.values() if f.replaces_id == second.id]
    assert replacement.due_on == new_date and replacement.status is FollowUpStatus.SCHEDULED
    # A closed follow-up cannot be updated again: the page says so and keeps the note.
    again = client.submit(f"{base}/{first.id}", {"outcome": "missed",
                                                 "note": "Rang twice, no answer"},
                          page=workspace_url(referral))
    assert again.status_code == 409
    assert "already done" in again.get_data(as_text=True)
    assert "Rang twice, no answer" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FollowUp, first.id).status is FollowUpStatus.DONE


# --- scope, CSRF and garbage -----------------------------------------------------


def test_a_colleagues_referral_is_not_found(client, db, make, hub, connector):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.colleague)
    db.session.commit()
    base = f"/caseload/referrals/{referral.id}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/close").status_code == 404
    assert client.submit(f"{base}/contacts", contact_form(), page="/caseload").status_code == 404
    assert client.submit(f"{base}/close", {"closing": "declined", "note": "x"},
                         page="/caseload").status_code == 404


def test_another_teams_referral_is_not_found_even_for_its_coordinator_peer(client, db, make,
                                                                           hub, page):
    referral = make.referral(hub.practice)
    sign_in(client, db, hub.other_team_connector)
    assert client.get(workspace_url(referral)).status_code == 404
    # Accepting answers as for a referral a colleague has just taken: it says nothing of
    # this one, and changes nothing.
    accept = client.submit(f"/caseload/referrals/{referral.id}/accept", {}, page="/caseload",
                           follow_redirects=True)
    assert "is no longer in the team queue" in accept.get_data(as_text=True)
    assert referral.reference not in accept.get_data(as_text=True)
    assert db.session.get(Referral, referral.id).status is S.RECEIVED
    assert referral.reference not in client.get("/caseload/queue").get_data(as_text=True)


def test_a_coordinator_can_cover_a_connectors_referral(client, db, make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    sign_in(client, db, hub.coordinator)
    response = client.submit(f"/caseload/referrals/{referral.id}/contacts", contact_form(),
                             page=workspace_url(referral))
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status is S.IN_PROGRESS


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.ADMIN])
def test_practice_staff_and_admins_cannot_use_the_casework_screens(client, login_as, make,
                                                                   db, role):
    referral = make.referral()
    login_as(role)
    for url in ("/caseload", "/caseload/queue", workspace_url(referral)):
        assert client.get(url).status_code == 403


def test_posts_without_a_csrf_token_change_nothing(client, db, make, hub, connector):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=connector)
    queued = make.referral(hub.practice)
    db.session.commit()
    version = referral.version
    for url, data in [
        (f"/caseload/referrals/{referral.id}/contacts", contact_form()),
        (f"/caseload/referrals/{referral.id}/close", {"closing": "declined", "note": "x"}),
        (f"/caseload/referrals/{queued.id}/accept", {}),
    ]:
        assert client.post(url, data=data).status_code == 400
    db.session.refresh(referral)
    db.session.refresh(queued)
    assert referral.version == version and queued.status is S.RECEIVED


def test_garbage_never_makes_a_500(client, db, make, hub, connector):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=connector)
    db.session.commit()
    base = f"/caseload/referrals/{referral.id}"
    junk = {"contact_date": "\x00" * 3, "contact_time": "99:99:99", "method": ["a", "b"],
            "outcome": "\x00", "duration": "1e9", "notes": "\x00",
            "due_on": "0/0/0000", "follow_up_method": "", "purpose": "\x00" * 400,
            "closing": "\x00", "note": "\x00", "new_due_on": "32/13/99999"}
    for url in (f"{base}/contacts", f"{base}/follow-ups", f"{base}/close",
                f"{base}/follow-ups/2147483647", f"{base}/reject"):
        response = client.submit(url, junk, page=workspace_url(referral))
        assert response.status_code < 500, url
    assert client.get("/caseload/referrals/99999999999").status_code == 404


def test_the_caseload_page_reads_in_a_fixed_number_of_statements(client, db, make, hub,
                                                                connector):
    from sqlalchemy import event

    def statements_for_page():
        seen = []
        engine = db.session.get_bind()

        def count(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/caseload").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    for _ in range(2):
        make.referral(hub.practice, status=S.IN_PROGRESS, connector=connector)
    db.session.commit()
    few = statements_for_page()
    for _ in range(5):
        make.referral(hub.practice, status=S.IN_PROGRESS, connector=connector)
    db.session.commit()
    assert statements_for_page() == few

"""A connector's day in the browser: caseload, triage queue, workspace, follow-ups, closing
and notifications, with axe-core run on every state reached, errors included.

All tests share one live demo town, and other tests change it too, so each one picks its
referral by what the pages show at the time (a status filter, the first Accept button)
and its own follow-ups and contacts by a text no one else writes. None of them gives a
connector who is in this week room on their caseload: the hub's tests expect the team to
be waiting for capacity, as the demo leaves it.
"""
from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import User
from referrals.notifications.service import notify
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

JO = "connector@kindly.example"  # Jo Bennett, her caseload full (7 of 7) in the demo
MEGAN = "connector3@kindly.example"  # Megan Hughes, away this week
_marks = itertools.count(1)


def mark(what: str) -> str:
    """A text this test alone writes, to find its own row again among everyone's."""
    return f"{what} (browser test {next(_marks)})"


def today_in(live_server) -> date:
    return datetime.now(ZoneInfo(live_server.app.config["TIMEZONE"])).date()


def typed(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def shown(day: date) -> str:
    """A date as the pages show it (the local_date filter)."""
    return f"{day.day} {day.strftime('%b %Y')}"


def status_tag(page: Page):
    """The referral's status, the first tag under the person's name in the workspace."""
    return page.locator("h1 + p > .nhsuk-tag").first


def caseload_rows(page: Page):
    return page.locator("#caseload tbody tr")


def error_summary(page: Page):
    return page.locator(".nhsuk-error-summary")


def form_with_button(page: Page, button: str):
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def accept_from_queue(page: Page) -> str:
    """Accept the first referral the queue offers; returns its reference."""
    page.goto("/caseload/queue")
    accept = page.get_by_role("button", name=re.compile(r"^Accept KND-"))
    assert accept.count(), (
        "the triage queue offers nothing to accept: the demo has received referrals "
        "routed to connectors or unassigned, so other tests must have taken them all"
    )
    reference = re.search(r"KND-\d{4}-\d{6}", accept.first.inner_text()).group(0)
    accept.first.click()
    expect(page).to_have_url(re.compile(r"/caseload/referrals/\d+$"))
    expect(page.get_by_text(f"Referral {reference} accepted. It is on your caseload.")
           ).to_be_visible()
    return reference


def open_from_caseload(page: Page, status: str) -> bool:
    """Open the first referral in this status on the caseload, if there is one."""
    page.goto(f"/caseload?status={status}")
    rows = caseload_rows(page)
    if not rows.count():
        return False
    rows.first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/caseload/referrals/\d+$"))
    return True


def open_accepted_referral(page: Page) -> None:
    """An accepted referral of the connector's: from the caseload, or taken from the queue."""
    if not open_from_caseload(page, "accepted"):
        accept_from_queue(page)
    expect(status_tag(page)).to_have_text("Accepted")


def open_referral_in_progress(page: Page) -> None:
    """A referral of the connector's in progress: from the caseload, or an accepted one."""
    if open_from_caseload(page, "in_progress"):
        return
    open_accepted_referral(page)
    open_section(page, "Contacts")
    form = form_with_button(page, "Record contact")
    form.get_by_role("group", name="Method").get_by_label("Phone", exact=True).check()
    form.get_by_role("group", name="Outcome").get_by_label("Spoke with them").check()
    form.get_by_role("button", name="Record contact").click()
    expect(status_tag(page)).to_have_text("In progress")


def open_section(page: Page, name: str) -> None:
    """A section of the workspace, through its sub-navigation."""
    page.get_by_role("navigation", name="Sections of this referral").get_by_role(
        "link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=2, name=name, exact=True)).to_be_visible()


# --- my caseload -------------------------------------------------------------------


def test_a_connector_lands_on_an_accessible_caseload_and_filters_it_by_status(
    page, sign_in, axe
):
    sign_in(JO)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/caseload$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(page.locator(".nhsuk-caption-l")).to_have_text("Jo Bennett")
    expect(caseload_rows(page).first).to_be_visible()
    assert_accessible(axe, page, "my caseload")

    counts = page.get_by_role("list", name="Counts by status")
    for value, label in (("in_progress", "In progress"), ("accepted", "Accepted")):
        expected = int(counts.get_by_role("listitem").filter(has_text=label)
                       .locator("strong:not(.nhsuk-tag)").inner_text())
        page.get_by_label("Status", exact=True).select_option(label=label)
        page.get_by_role("button", name="Filter").click()

        expect(page).to_have_url(re.compile(rf"[?&]status={value}(&|$)"))
        expect(page.get_by_label("Status", exact=True)).to_have_value(value)
        if expected:
            statuses = page.locator("#caseload tbody tr td:nth-child(2)")
            expect(statuses).to_have_count(expected)
            assert set(statuses.all_inner_texts()) == {label}
        else:
            expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()
        # The counts are the whole caseload's, whatever the filter.
        expect(counts.get_by_role("listitem").filter(has_text=label)
               .locator("strong:not(.nhsuk-tag)")).to_have_text(str(expected))
    assert_accessible(axe, page, "my caseload filtered by status")


# --- the triage queue --------------------------------------------------------------


def test_accepting_from_the_accessible_triage_queue_opens_the_workspace(page, sign_in, axe):
    sign_in(JO)
    page.goto("/caseload")
    page.locator("header nav").get_by_role("link", name="Triage queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage queue")
    assert_accessible(axe, page, "the triage queue")

    reference = accept_from_queue(page)

    # The workspace: the person, now Jo's, accepted.
    expect(page.locator(".nhsuk-caption-l")).to_have_text(f"Referral {reference}")
    expect(status_tag(page)).to_have_text("Accepted")
    expect(page.get_by_role("heading", name="The person")).to_be_visible()
    expect(page.get_by_role("navigation", name="Sections of this referral")).to_be_visible()
    connector = page.locator(".nhsuk-summary-list__row").filter(has_text="Connector")
    expect(connector).to_contain_text("Jo Bennett")
    assert_accessible(axe, page, "the workspace of a referral just accepted")

    # It is on the caseload, and no longer offered in the queue.
    page.get_by_role("link", name="My caseload").first.click()
    row = caseload_rows(page).filter(has_text=reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Accepted")
    page.goto("/caseload/queue")
    expect(page.get_by_role("button", name=f"Accept {reference}")).to_have_count(0)


# --- the workspace: contacts ---------------------------------------------------------


def test_a_contact_is_recorded_with_the_keyboard_alone(page, sign_in, axe):
    sign_in(JO)
    open_accepted_referral(page)
    open_section(page, "Contacts")
    form = form_with_button(page, "Record contact")
    note = mark("Spoke about the Thursday choir")

    # Start in the last text field before the choices (date and time come filled in),
    # then only the keyboard.
    form.get_by_label("Time", exact=True).focus()
    page.keyboard.press("Tab")
    phone = form.get_by_role("group", name="Method").get_by_label("Phone", exact=True)
    expect(phone).to_be_focused()
    page.keyboard.press("Space")
    expect(phone).to_be_checked()
    page.keyboard.press("Tab")
    spoke = form.get_by_role("group", name="Outcome").get_by_label("Spoke with them")
    expect(spoke).to_be_focused()
    page.keyboard.press("Space")
    expect(spoke).to_be_checked()
    page.keyboard.press("Tab")
    expect(form.get_by_label("Duration in minutes (optional)")).to_be_focused()
    page.keyboard.type("25")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Notes")).to_be_focused()
    page.keyboard.type(note)
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Record contact")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/caseload/referrals/\d+/contacts#contacts$"))
    expect(page.get_by_text("Contact recorded.")).to_be_visible()
    expect(status_tag(page)).to_have_text("In progress")
    contact = page.get_by_role("table", name="Contacts, newest first").locator("tbody tr").first
    expect(contact).to_contain_text(note)
    expect(contact).to_contain_text("Phone")
    expect(contact).to_contain_text("Spoke with them")
    expect(contact).to_contain_text("25")
    expect(contact).to_contain_text("Jo Bennett")
    assert_accessible(axe, page, "the workspace after a contact")

    # Again without an outcome: the error is next to the field and in the summary.
    form.get_by_role("group", name="Method").get_by_label("Phone", exact=True).check()
    form.get_by_label("Notes").fill(mark("No outcome chosen"))
    form.get_by_role("button", name="Record contact").click()

    summary = error_summary(page)
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name="Select what happened")
    expect(link).to_have_attribute("href", "#outcome")
    expect(page.locator(".nhsuk-form-group--error").filter(
        has=page.get_by_role("group", name="Outcome"))).to_contain_text("Select what happened")
    expect(page).to_have_title(re.compile(r"^Error: "))
    # What was typed is kept.
    expect(form.get_by_role("group", name="Method").get_by_label("Phone", exact=True)
           ).to_be_checked()
    assert_accessible(axe, page, "the workspace with a contact error")

    link.click()
    assert page.evaluate("document.activeElement.id") == "outcome"
    expect(form.get_by_role("group", name="Outcome").get_by_label("Spoke with them")
           ).to_be_focused()


# --- the workspace: follow-ups ---------------------------------------------------------


def schedule_follow_up(page: Page, *, due: date, purpose: str) -> None:
    form = form_with_button(page, "Schedule follow-up")
    form.get_by_label("Date", exact=True).fill(typed(due))
    form.get_by_role("group", name="Method").get_by_label("Phone", exact=True).check()
    form.get_by_label("Purpose").fill(purpose)
    form.get_by_role("button", name="Schedule follow-up").click()
    expect(page).to_have_url(re.compile(r"#follow-ups$"))
    expect(page.get_by_text("Follow-up scheduled.")).to_be_visible()


def scheduled_row(page: Page, purpose: str):
    return page.get_by_role("table", name="Scheduled follow-ups").locator("tbody tr").filter(
        has_text=purpose)


def open_update_page(page: Page, purpose: str, due: date) -> None:
    scheduled_row(page, purpose).get_by_role(
        "link", name=f"Update follow-up due {shown(due)}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Follow-up due {shown(due)}")
    expect(page.locator("main")).to_contain_text(purpose)


def earlier_follow_up(page: Page, purpose: str):
    return page.locator("details").filter(has_text="Earlier follow-ups").locator("li").filter(
        has_text=purpose)


def test_a_follow_up_is_scheduled_and_marked_done_on_accessible_pages(
    page, sign_in, axe, live_server
):
    sign_in(JO)
    open_referral_in_progress(page)
    open_section(page, "Follow-ups")
    due = today_in(live_server) + timedelta(days=7)
    purpose = mark("Check how the walking group went")
    schedule_follow_up(page, due=due, purpose=purpose)
    expect(scheduled_row(page, purpose)).to_contain_text(shown(due))
    assert_accessible(axe, page, "the workspace with a follow-up scheduled")

    open_update_page(page, purpose, due)
    assert_accessible(axe, page, "the follow-up update page")

    page.get_by_role("button", name="Save").click()  # nothing chosen
    summary = error_summary(page)
    expect(summary.get_by_role("link", name="Select done, missed or reschedule")
           ).to_have_attribute("href", "#outcome")
    assert_accessible(axe, page, "the follow-up update page with an error")

    page.get_by_label("Done", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Follow-up updated.")).to_be_visible()
    expect(scheduled_row(page, purpose)).to_have_count(0)
    expect(earlier_follow_up(page, purpose)).to_contain_text("Done")


def test_a_follow_up_is_rescheduled_on_accessible_pages(page, sign_in, axe, live_server):
    sign_in(JO)
    open_referral_in_progress(page)
    open_section(page, "Follow-ups")
    today = today_in(live_server)
    due, later = today + timedelta(days=8), today + timedelta(days=21)
    purpose = mark("Help with the bus pass form")
    schedule_follow_up(page, due=due, purpose=purpose)
    expect(scheduled_row(page, purpose)).to_contain_text(shown(due))

    open_update_page(page, purpose, due)
    assert_accessible(axe, page, "the follow-up update page")

    # Rescheduling asks for the new date, next to the field and in the summary.
    page.get_by_label("Reschedule it").check()
    page.get_by_role("button", name="Save").click()
    new_date = page.get_by_label("New date")
    # The wording changes when an empty date is left to the service (see the test above).
    message = re.compile(r"Enter (a date|the date of the follow-up)")
    expect(page.locator(".nhsuk-form-group--error").filter(has=new_date)).to_contain_text(message)
    expect(new_date).to_have_accessible_description(message)
    expect(error_summary(page).get_by_role("link", name=message)).to_have_attribute(
        "href", "#new_due_on")
    expect(page.get_by_label("Reschedule it")).to_be_checked()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(axe, page, "the follow-up update page with a date error")

    new_date.fill(typed(later))
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"#follow-ups$"))
    expect(page.get_by_text("Follow-up updated.")).to_be_visible()
    expect(scheduled_row(page, purpose)).to_have_count(1)
    expect(scheduled_row(page, purpose)).to_contain_text(shown(later))
    expect(earlier_follow_up(page, purpose)).to_contain_text("Rescheduled")
    assert_accessible(axe, page, "the workspace after rescheduling")


# --- closing -------------------------------------------------------------------------


def test_closing_as_completed_needs_a_note_and_the_error_is_accessible(page, sign_in, axe):
    # Megan, not Jo: a closed referral frees a place, and a place with Jo (who is in) would
    # end the hub's "Waiting for capacity" that test_hub_accessibility looks for. Megan is
    # away this week, so routing gives her nothing whatever her caseload.
    sign_in(MEGAN)
    open_referral_in_progress(page)
    reference = re.search(r"KND-\d{4}-\d{6}", page.locator(".nhsuk-caption-l").inner_text()
                          ).group(0)

    page.get_by_role("button", name="Close referral").click()
    expect(page).to_have_url(re.compile(r"/close$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Close this referral")
    assert_accessible(axe, page, "the close page")

    completed = page.get_by_label("Completed: the work with the person is finished")
    completed.check()
    page.get_by_role("button", name="Close referral").click()

    note = page.get_by_label("Closing note")
    expect(page.locator(".nhsuk-form-group--error").filter(has=note)).to_contain_text(
        "Write a closing note")
    expect(note).to_have_accessible_description(re.compile("Write a closing note"))
    expect(error_summary(page).get_by_role("link", name="Write a closing note")
           ).to_have_attribute("href", "#note")
    expect(completed).to_be_checked()
    assert_accessible(axe, page, "the close page with an error")

    note.fill(mark("Goals met: going to the choir every week"))
    page.get_by_role("button", name="Close referral").click()
    expect(page).to_have_url(re.compile(r"/caseload/referrals/\d+$"))
    expect(page.get_by_text(f"Referral {reference} closed: completed.")).to_be_visible()
    expect(status_tag(page)).to_have_text("Completed")
    assert_accessible(axe, page, "the workspace of a completed referral")

    # Closed referrals leave the caseload.
    page.goto("/caseload")
    expect(caseload_rows(page).filter(has_text=reference)).to_have_count(0)


# --- notifications -------------------------------------------------------------------


def test_an_empty_notifications_page_is_accessible(page, sign_in, axe):
    sign_in(MEGAN)
    page.goto("/caseload")
    page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.get_by_text("You have no notifications.")).to_be_visible()
    assert_accessible(axe, page, "an empty notifications page")


def test_notifications_are_accessible_unread_and_read(page, sign_in, axe, live_server):
    title = mark("Follow-up due today")
    with live_server.app.app_context():  # as the scheduler's daily digest would
        jo = db.session.scalars(select(User).where(User.email == JO)).one()
        notify(jo, "digest", title, "One follow-up is due today.\n\nOpen your caseload.",
               "/caseload")
        db.session.commit()
        db.session.remove()

    sign_in(JO)
    page.goto("/caseload")
    page.get_by_role("link", name=re.compile(r"^Notifications \(\d+ unread\)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    card = page.locator(".kindly-notifications > li").filter(has_text=title)
    expect(card).to_contain_text("Unread")
    expect(card.get_by_role("link", name=title)).to_have_attribute("href", "/caseload")
    assert_accessible(axe, page, "the notifications page with an unread notification")

    # Chromium puts a space before the visually hidden ": title" (it is positioned).
    card.get_by_role("button", name=re.compile(rf"^Mark as read ?: {re.escape(title)}$")).click()
    card = page.locator(".kindly-notifications > li").filter(has_text=title)
    expect(card).not_to_contain_text("Unread")
    expect(card.get_by_role("button")).to_have_count(0)
    assert_accessible(axe, page, "the notifications page with a read notification")

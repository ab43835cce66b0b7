"""Template filters and globals: how things look, never what users may do."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from referrals import access, ethnicity, workflow
from referrals.directory import vocabulary
from referrals.models import ReferralStatus, Role
from referrals.nhs_number import format_nhs_number
from referrals.notifications.service import unread_count
from referrals.reasons import label_for

STATUS_COLOURS = {
    ReferralStatus.RECEIVED: "blue",
    ReferralStatus.ACCEPTED: "aqua-green",
    ReferralStatus.IN_PROGRESS: "purple",
    ReferralStatus.COMPLETED: "green",
    ReferralStatus.DECLINED: "grey",
    ReferralStatus.UNABLE_TO_CONTACT: "orange",
    ReferralStatus.REJECTED: "red",
    ReferralStatus.CANCELLED: "white",
}

# Navigation per role: (label, endpoint).
NAVIGATION = {
    Role.REFERRER: [("Referrals", "intake.list_referrals"), ("Make a referral", "intake.new_referral"),
                    ("Outcome letters", "letters.inbox")],
    Role.MANAGER: [("Referrals", "intake.list_referrals"), ("Outcome letters", "letters.inbox"),
                   ("Reports", "reports.index")],
    Role.CONNECTOR: [
        ("My caseload", "caseload.my_caseload"),
        ("Triage queue", "caseload.triage_queue"),
        ("Referrals", "intake.list_referrals"),
        ("Directory", "directory.search"),
    ],
    Role.COORDINATOR: [("Hub", "hub.workload"), ("Referrals", "intake.list_referrals"),
                       ("Directory", "directory_manage.list_offers"), ("Reports", "reports.index")],
    Role.ADMIN: [("Users", "admin.users"), ("API clients", "admin.api_clients")],
}
# Account management (issue 14): appended so each role's list above stays as it was.
NAVIGATION[Role.MANAGER].append(("Practice accounts", "accounts.list_users"))
NAVIGATION[Role.COORDINATOR].append(("Team accounts", "accounts.list_users"))
NAVIGATION[Role.ADMIN][1:1] = [("Accounts", "accounts.list_users"), ("Outbox", "accounts.outbox_list")]
# Issue 15 (matching): volunteer requests for the hub, and a volunteer's own matches.
NAVIGATION[Role.CONNECTOR].append(("Volunteer requests", "volunteering.requests"))
NAVIGATION[Role.COORDINATOR].append(("Volunteer requests", "volunteering.requests"))
# Issue 15 (volunteers): a coordinator's volunteers; a volunteer's own page first.
NAVIGATION[Role.COORDINATOR].append(("Volunteers", "volunteers.review_list"))
NAVIGATION[Role.VOLUNTEER] = [("My volunteering", "volunteers.my_page"),
                              ("Your matches", "volunteering.matches")]
# --- issue 15 (community): the phone line, champions' suggestions, a champion's patch ---
NAVIGATION[Role.CONNECTOR].append(("Calls", "calls.index"))
NAVIGATION[Role.COORDINATOR][1:1] = [("Calls", "calls.index"),
                                     ("Suggestions", "champions.suggestions")]
NAVIGATION.setdefault(Role.VOLUNTEER, []).append(("Your patch", "champions.patch"))
# Issue 15 (partners): a partner organisation's handovers and listings.
NAVIGATION[Role.PARTNER] = [("Handovers", "partners.handovers"),
                            ("Your listings", "partners.listings")]


def local_time(value: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def local_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value, "%-d %b %Y")
    return value.strftime("%-d %b %Y")


def time_since(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the words a connector would use: today, 3 days ago, 2 weeks ago."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    now = now or datetime.now(zone)
    days = (now.astimezone(zone).date() - value.astimezone(zone).date()).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days < 14:
        return f"{days} days ago"
    return f"{days // 7} weeks ago"


def age(born: date, today: date | None = None) -> int:
    today = today or date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def category_name(code: str) -> str:
    """An offer category's name ("Befriending"), or the code if it is no longer listed."""
    found = vocabulary.CATEGORY_BY_CODE.get(code)
    return found.name if found else code


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        nhs_number=format_nhs_number,
        local_time=local_time,
        local_date=local_date,
        age=age,
        reason_label=label_for,
        time_since=time_since,
        ethnic_group=ethnicity.describe,
        category_name=category_name,
    )
    app.jinja_env.globals.update(
        status_colour=lambda status: STATUS_COLOURS[ReferralStatus(status)],
        Action=access.Action,
        allowed_moves=workflow.allowed_moves,
    )

    @app.context_processor
    def navigation():
        items = []
        if current_user.is_authenticated:
            items = NAVIGATION.get(current_user.role, [])
        return {"nav_items": items, "service_name": app.config["SERVICE_NAME"]}

    @app.context_processor
    def notification_count():
        # One indexed COUNT per page for a signed-in user (ix_notification_user_read).
        if not current_user.is_authenticated:
            return {"unread_notifications": 0}
        return {"unread_notifications": unread_count(current_user)}

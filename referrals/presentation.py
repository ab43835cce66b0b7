"""Template filters and globals: how things look, never what users may do."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from referrals import access, workflow
from referrals.models import ReferralStatus, Role
from referrals.nhs_number import format_nhs_number
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
    Role.REFERRER: [("Referrals", "intake.list_referrals"), ("Make a referral", "intake.new_referral")],
    Role.MANAGER: [("Referrals", "intake.list_referrals")],
    Role.CONNECTOR: [("Referrals", "intake.list_referrals")],
    Role.COORDINATOR: [("Referrals", "intake.list_referrals")],
    Role.ADMIN: [("Users", "admin.users"), ("API clients", "admin.api_clients")],
}


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


def age(born: date, today: date | None = None) -> int:
    today = today or date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        nhs_number=format_nhs_number,
        local_time=local_time,
        local_date=local_date,
        age=age,
        reason_label=label_for,
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

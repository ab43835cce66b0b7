"""The signed-in user's notifications: a list, unread first, and marking them read."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from referrals.access import signed_in
from referrals.extensions import db
from referrals.notifications import service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

NOTIFICATION_ID = "<int(max=2147483647):notification_id>"


@bp.route("")
@signed_in
def list_notifications():
    """Your notifications, unread first."""
    notifications = service.notifications_for(current_user)
    return render_template("notifications/list_notifications.html",
                           notifications=notifications,
                           unread=sum(1 for n in notifications if n.read_at is None))


@bp.route(f"/{NOTIFICATION_ID}/read", methods=["POST"])
@signed_in
def mark_read(notification_id: int):
    """Mark one of your notifications read (anyone else's is not found)."""
    notification = service.own_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    service.mark_read(notification)
    db.session.commit()
    return redirect(url_for(".list_notifications"))


@bp.route("/read", methods=["POST"])
@signed_in
def mark_all_read():
    """Mark all your notifications read."""
    service.mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for(".list_notifications"))

"""In-app notifications: create, count, list and mark read. Services flush; callers commit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, update

from referrals.extensions import db
from referrals.models import Notification, User, utcnow

LIST_LIMIT = 200


def notify(user: User, kind: str, title: str, body: str = "", url: str = "", *,
           now: datetime | None = None) -> Notification:
    """Add an unread notification for `user` (flushed, not committed)."""
    notification = Notification(user_id=user.id, kind=kind, title=title[:200], body=body,
                                url=url[:300], created_at=now or utcnow())
    db.session.add(notification)
    db.session.flush()
    return notification


def unread_count(user: User) -> int:
    """How many of `user`'s notifications are unread: one COUNT on ix_notification_user_read."""
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def notifications_for(user: User, *, limit: int = LIST_LIMIT) -> list[Notification]:
    """`user`'s own notifications, unread first, then newest first."""
    unread_first = case((Notification.read_at.is_(None), 0), else_=1)
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(unread_first, Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ))


def own_notification(user: User, notification_id: int) -> Notification | None:
    """The notification with this id if it is `user`'s; None for anyone else's."""
    return db.session.scalars(
        select(Notification).where(Notification.id == notification_id,
                                   Notification.user_id == user.id)
    ).first()


def mark_read(notification: Notification, *, now: datetime | None = None) -> None:
    """Mark one notification read; reading it again keeps the first time."""
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        db.session.flush()


def mark_all_read(user: User, *, now: datetime | None = None) -> int:
    """Mark every unread notification of `user` read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount

"""The notifications page: your own notifications only, unread first, marked read by POST."""
from __future__ import annotations

from sqlalchemy import event

from referrals.models import Notification, Role
from referrals.notifications.service import notify, unread_count


def test_the_header_shows_how_many_notifications_are_unread(client, login_as, db):
    user = login_as(Role.CONNECTOR)
    notify(user, "digest", "First")
    notify(user, "digest", "Second")
    db.session.commit()

    html = client.get("/notifications").get_data(as_text=True)

    assert "Notifications (2 unread)" in html


def test_unread_notifications_come_first(client, login_as, db):
    user = login_as(Role.COORDINATOR)
    older = notify(user, "digest", "Already read")
    notify(user, "escalation", "Still unread")
    older.read_at = older.created_at
    db.session.commit()

    html = client.get("/notifications").get_data(as_text=True)

    assert html.index("Still unread") < html.index("Already read")


def test_marking_a_notification_read_lowers_the_count(client, login_as, db):
    user = login_as(Role.CONNECTOR)
    first = notify(user, "digest", "First")
    notify(user, "digest", "Second")
    db.session.commit()

    response = client.submit(f"/notifications/{first.id}/read", {}, page="/notifications")

    assert response.status_code == 302
    assert db.session.get(Notification, first.id).read_at is not None
    assert unread_count(user) == 1
    assert "Notifications (1 unread)" in client.get("/notifications").get_data(as_text=True)


def test_mark_all_read(client, login_as, db):
    user = login_as(Role.CONNECTOR)
    notify(user, "digest", "First")
    notify(user, "digest", "Second")
    db.session.commit()

    client.submit("/notifications/read", {}, page="/notifications")

    assert unread_count(user) == 0


def test_someone_elses_notification_is_not_found_and_not_listed(client, login_as, make, db):
    other = make.user(Role.CONNECTOR)
    theirs = notify(other, "digest", "Not for you")
    login_as(Role.CONNECTOR)
    db.session.commit()

    assert "Not for you" not in client.get("/notifications").get_data(as_text=True)
    response = client.submit(f"/notifications/{theirs.id}/read", {}, page="/notifications")

    assert response.status_code == 404
    assert db.session.get(Notification, theirs.id).read_at is None


def test_marking_read_needs_the_csrf_token(client, login_as, db):
    user = login_as(Role.CONNECTOR)
    mine = notify(user, "digest", "First")
    db.session.commit()

    response = client.post(f"/notifications/{mine.id}/read", data={})

    assert response.status_code == 400
    assert db.session.get(Notification, mine.id).read_at is None


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/notifications")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_unread_count_is_one_query(app, make, db):
    user = make.user(Role.CONNECTOR)
    notify(user, "digest", "First")
    statements = []
    engine = db.session.get_bind()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert unread_count(user) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(statements) == 1 and "count(" in statements[0].lower()

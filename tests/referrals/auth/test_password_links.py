"""Links to set a password (invitations, resets) and "forgot password": single use,
time-limited, only the newest works, stored hashed; the same answer whether or not the
email has an account; throttled; sent by SMTP when configured, else kept in the outbox."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referrals.accounts import service
from referrals.auth import service as auth
from referrals.models import AccountToken, AuditEvent, OutboxMessage, Role, utcnow
from referrals.notifications import mail

BASE = "https://kindly.test"
NEW_PASSWORD = "seven yellow kites"


def secrets_sent(db, to: str) -> list[str]:
    bodies = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.to == to)
                                .order_by(OutboxMessage.id))
    return [m for body in bodies for m in re.findall(r"/set-password/([A-Za-z0-9_-]+)", body)]


def forgot(email: str, *, ip="192.0.2.1", now=None):
    service.request_password_reset(email, ip=ip, base_url=BASE, now=now)


def test_a_reset_link_sets_the_password_once(make, db):
    user = make.user(Role.REFERRER)
    forgot(user.email.upper())
    [secret] = secrets_sent(db, user.email)

    service.set_password_from_link(secret, NEW_PASSWORD)

    assert auth.authenticate(user.email, NEW_PASSWORD) == user
    with pytest.raises(service.LinkInvalid):
        service.set_password_from_link(secret, "another good passphrase")
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_id == user.id)).all()[-1] == "set password"


def test_only_a_hash_of_the_link_is_stored(make, db):
    user = make.user(Role.REFERRER)
    forgot(user.email)
    [secret] = secrets_sent(db, user.email)

    token = db.session.scalars(select(AccountToken)).one()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (token.token_hash, str(token.id))


def test_a_reset_link_expires_after_the_configured_time(make, db, app):
    user = make.user(Role.REFERRER)
    then = utcnow()
    forgot(user.email, now=then)
    [secret] = secrets_sent(db, user.email)
    minutes = app.config["RESET_LINK_VALID_MINUTES"]

    assert service.link_holder(secret, now=then + timedelta(minutes=minutes - 1)) == user
    with pytest.raises(service.LinkInvalid):
        service.set_password_from_link(secret, NEW_PASSWORD,
                                       now=then + timedelta(minutes=minutes, seconds=1))


def test_an_invitation_lasts_the_configured_days(make, db, app):
    manager = make.user(Role.MANAGER)
    then = utcnow()
    user = service.invite_user(email="ivy@test.example", name="Ivy", role=Role.REFERRER,
                               practice=manager.practice, team=None, actor=manager,
                               base_url=BASE, now=then)
    [secret] = secrets_sent(db, user.email)
    days = app.config["INVITE_LINK_VALID_DAYS"]

    assert service.link_holder(secret, now=then + timedelta(days=days) - timedelta(minutes=1))
    with pytest.raises(service.LinkInvalid):
        service.link_holder(secret, now=then + timedelta(days=days))


def test_a_new_link_makes_the_older_ones_die(make, db):
    admin = make.user(Role.ADMIN)
    user = make.user(Role.REFERRER)
    forgot(user.email)
    service.force_password_reset(user, actor=admin, base_url=BASE)
    first, second = secrets_sent(db, user.email)

    with pytest.raises(service.LinkInvalid):
        service.set_password_from_link(first, NEW_PASSWORD)
    service.set_password_from_link(second, NEW_PASSWORD)


def test_a_forced_reset_stops_the_old_password_working(make, db):
    admin = make.user(Role.ADMIN)
    user = make.user(Role.CONNECTOR, password="correct horse battery")
    token_before = user.session_token

    service.force_password_reset(user, actor=admin, base_url=BASE)

    with pytest.raises(auth.InvalidCredentials):
        auth.authenticate(user.email, "correct horse battery")
    assert user.session_token != token_before
    assert len(secrets_sent(db, user.email)) == 1


def test_deactivation_kills_the_links_and_a_deactivated_account_gets_none(make, db):
    admin = make.user(Role.ADMIN)
    user = make.user(Role.REFERRER)
    forgot(user.email)
    [secret] = secrets_sent(db, user.email)

    service.deactivate(user, actor=admin)
    forgot(user.email)

    with pytest.raises(service.LinkInvalid):
        service.link_holder(secret)
    assert len(secrets_sent(db, user.email)) == 1


def test_a_weak_password_is_refused_and_the_link_still_works(make, db):
    user = make.user(Role.REFERRER)
    forgot(user.email)
    [secret] = secrets_sent(db, user.email)

    with pytest.raises(service.AccountInvalid, match="10 characters or more"):
        service.set_password_from_link(secret, "short")
    assert service.link_holder(secret) == user


def test_forgot_password_is_throttled_per_email_and_per_address(make, db, app):
    user = make.user(Role.REFERRER)
    per_email = app.config["PASSWORD_RESET_MAX_PER_EMAIL"]
    for n in range(per_email + 1):
        forgot(user.email, ip=f"192.0.2.{n}")
    assert len(secrets_sent(db, user.email)) == per_email

    other = make.user(Role.REFERRER)
    for n in range(app.config["PASSWORD_RESET_MAX_PER_ADDRESS"]):
        forgot(f"nobody{n}@test.example", ip="198.51.100.7")
    forgot(other.email, ip="198.51.100.7")
    assert secrets_sent(db, other.email) == []
    throttled = db.session.scalars(select(AuditEvent.actor_label).where(
        AuditEvent.action == "password reset throttled")).all()
    assert throttled == [user.email, other.email]


def test_forgot_password_gives_the_same_answer_whether_or_not_the_account_exists(
        client, make, db):
    user = make.user(Role.REFERRER)
    db.session.commit()

    known = client.submit("/forgot-password", {"email": user.email})
    unknown = client.submit("/forgot-password", {"email": "nobody.here@test.example"})

    assert known.status_code == unknown.status_code == 303
    assert known.location == unknown.location == "/forgot-password/sent"
    assert "Check your email" in client.get(known.location).get_data(as_text=True)
    assert len(secrets_sent(db, user.email)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    requests = db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "request password reset")).all()
    assert requests == [{"sent": True}, {"sent": False}]  # audited both ways


def test_the_sign_in_page_links_to_forgot_password(client):
    assert 'href="/forgot-password"' in client.get("/login").get_data(as_text=True)


def test_the_set_password_page_sets_it_once_then_says_the_link_is_used(client, make, db):
    user = make.user(Role.REFERRER)
    forgot(user.email)
    db.session.commit()
    [secret] = secrets_sent(db, user.email)
    url = f"/set-password/{secret}"

    weak = client.submit(url, {"new_password": "password", "confirm_password": "password"})
    assert weak.status_code == 422
    assert "common passwords" in weak.get_data(as_text=True)

    done = client.submit(url, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.location == "/login"

    again = client.get(url)
    assert again.status_code == 410
    assert "has expired or has already been used" in again.get_data(as_text=True)
    assert client.get("/set-password/not-a-token").status_code == 410


def test_with_smtp_the_email_goes_through_send_email_and_its_link_is_not_kept(
        client, make, db, app, monkeypatch):
    sent = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.test.example")
    monkeypatch.setattr(mail, "send_email", lambda config, **message: sent.append(message))
    user = make.user(Role.REFERRER)
    db.session.commit()

    client.submit("/forgot-password", {"email": user.email})

    [message] = sent
    assert message["to"] == user.email and "/set-password/" in message["body"]
    stored = db.session.scalars(select(OutboxMessage)).one()
    db.session.refresh(stored)
    assert stored.sent_at is not None and stored.body == ""


def test_a_link_stays_dead_after_deactivation_and_reactivation(make, db):
    admin = make.user(Role.ADMIN)
    user = make.user(Role.REFERRER)
    forgot(user.email)
    [secret] = secrets_sent(db, user.email)

    auth.deactivate_user(user, actor=admin)  # as /admin/users and the CLI do
    auth.reactivate_user(user, actor=admin)

    with pytest.raises(service.LinkInvalid):
        service.link_holder(secret)

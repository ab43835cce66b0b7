"""What an email may say: what is due (references, counts, dates) and a link behind
sign-in; never a follow-up's purpose, a note or anyone's name. The in-app notification,
read behind sign-in, may say more."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from referrals import scheduler
from referrals.models import ContactChannel, FollowUp, Notification, ReferralStatus, Role
from referrals.notifications import delivery, mail

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
PURPOSE = "Ask how the bereavement group felt after her husband's anniversary"
PERSON = {"given_name": "Philippa", "family_name": "Oddington-Vale"}


@pytest.fixture
def sent(app, monkeypatch):
    """Emails that would have gone out: SMTP is configured, send_email records them."""
    outbox = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.test.example")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://kindly.test.example")
    monkeypatch.setattr(mail, "send_email", lambda config, **message: outbox.append(message))
    return outbox


@pytest.fixture
def team(make):
    practice = make.practice()
    practice.team.follow_up_grace_days = 1
    connector = make.user(Role.CONNECTOR, team=practice.team, capacity=20,
                          name="Marguerite Connector")
    coordinator = make.user(Role.COORDINATOR, team=practice.team)
    return practice, connector, coordinator


def in_app(db, user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def test_the_digest_email_says_what_is_due_but_not_what_for(db, make, team, sent):
    practice, connector, _ = team
    referral = make.referral(practice, connector=connector, status=ReferralStatus.IN_PROGRESS,
                             person=PERSON)
    db.session.add(FollowUp(referral_id=referral.id, due_on=TODAY, method=ContactChannel.PHONE,
                            purpose=PURPOSE))
    db.session.flush()

    assert scheduler.send_digests(now=NOW) == 1

    [email] = [m for m in sent if m["to"] == connector.email]
    assert email["subject"] == "Your day, 23 Nov 2026: 1 due today, 0 overdue"
    assert f"{referral.reference}: phone follow-up" in email["body"]
    assert "https://kindly.test.example/caseload" in email["body"]  # behind sign-in
    for words in (PURPOSE, "bereavement", *PERSON.values()):
        assert words not in email["body"] and words not in email["subject"]
    # In-app, behind sign-in, the connector still sees what the follow-up is for.
    [notification] = in_app(db, connector)
    assert PURPOSE in notification.body


def test_escalation_emails_name_no_one(db, make, team, sent):
    practice, connector, coordinator = team
    referral = make.referral(practice, connector=connector, status=ReferralStatus.ACCEPTED,
                             person=PERSON)
    referral.first_contact_due = TODAY - timedelta(days=3)
    db.session.add(FollowUp(referral_id=referral.id, due_on=TODAY - timedelta(days=4),
                            method=ContactChannel.PHONE, purpose=PURPOSE))
    db.session.flush()

    assert scheduler.escalate_first_contacts(now=NOW) == 1
    assert scheduler.escalate_overdue_follow_ups(now=NOW) == 1

    emails = [m for m in sent if m["to"] == coordinator.email]
    assert len(emails) == 2
    for email in emails:
        assert referral.reference in email["subject"]
        assert referral.reference in email["body"]
        for words in (connector.name, PURPOSE, *PERSON.values()):
            assert words not in email["body"] and words not in email["subject"]
    assert all(connector.name in n.body for n in in_app(db, coordinator))


def test_an_email_never_falls_back_to_the_in_app_body(db, make, team, sent):
    _, connector, _ = team
    message = delivery.Message(key="test:1", user_id=connector.id, kind="test",
                               title="KND-2026-000001: something to look at",
                               body=f"In-app only: {PURPOSE}", url="/caseload")

    assert delivery.deliver(message, now=NOW)

    [email] = sent
    assert PURPOSE not in email["body"]
    assert "sign in" in email["body"]


def test_in_app_only_keeps_reminders_out_of_email_even_with_smtp_set(db, make, team, sent, app,
                                                                     monkeypatch):
    # SMTP is needed for account emails in production; reminders may still stay in-app.
    monkeypatch.setitem(app.config, "NOTIFICATIONS_IN_APP_ONLY", True)
    practice, connector, _ = team
    referral = make.referral(practice, connector=connector, status=ReferralStatus.IN_PROGRESS)
    db.session.add(FollowUp(referral_id=referral.id, due_on=TODAY, method=ContactChannel.PHONE,
                            purpose="Check in"))
    db.session.flush()

    assert scheduler.send_digests(now=NOW) == 1

    assert sent == []
    assert in_app(db, connector)

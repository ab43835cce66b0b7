"""Issue 14: the GP's confirmation page says what happens next."""
from __future__ import annotations

from sqlalchemy import select

from referrals.models import AuditEvent, Referral


def sent(client, valid_form, **overrides):
    response = client.submit("/referrals/new", valid_form(**overrides))
    assert response.status_code == 302 and response.location.endswith("/sent")
    return response.location


def test_the_confirmation_names_the_team_the_target_date_and_how_they_will_be_contacted(
    client, referrer, valid_form, page, db
):
    location = sent(client, valid_form, phone="07700 900123", preferred_contact="phone")
    referral = db.session.scalars(select(Referral).order_by(Referral.id.desc())).first()

    shown = page(client.get(location))

    due = referral.first_contact_due
    text = shown.text()
    assert shown.response.status_code == 200
    assert referral.reference in text
    assert f"The referral goes to {referrer.practice.team.name}" in text
    assert f"A connector will contact Ann by {due:%A} {due.day} {due:%B %Y}." in text
    assert "They will phone Ann on 07700 900123, as Ann asked." in text
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == referral.id, AuditEvent.action == "read")).first()


def test_without_a_stated_preference_the_email_given_is_how_they_will_be_contacted(
    client, referrer, valid_form, page
):
    location = sent(client, valid_form, email="ann@example.com")

    text = page(client.get(location)).text()
    assert "They will email Ann at ann@example.com." in text
    assert "as Ann asked" not in text


def test_without_a_phone_or_email_the_person_will_get_a_letter(client, referrer, valid_form, page):
    location = sent(client, valid_form)

    assert "They will write to Ann at their home address." in page(client.get(location)).text()


def test_a_refresh_of_the_confirmation_sends_nothing_again(client, referrer, valid_form, db):
    location = sent(client, valid_form)
    before = db.session.query(Referral).count()

    assert client.get(location).status_code == 200
    assert client.get(location).status_code == 200
    assert db.session.query(Referral).count() == before


def test_another_practices_confirmation_is_not_found(client, login_as, make, db):
    other = make.referral()
    db.session.commit()
    login_as("referrer")

    assert client.get(f"/referrals/{other.id}/sent").status_code == 404

"""Issue 14: a duplicate referral offers "add your information to the open referral"."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals import access
from referrals.access import Action
from referrals.errors import IntakeInvalid, NotPermitted
from referrals.intake import additions
from referrals.models import (
    AuditEvent,
    Notification,
    ReferralAddition,
    ReferralStatus,
    Role,
)


def post_addition(client, data: dict, *, page="/referrals/new"):
    token = client.csrf_token(page)
    fields = {f"addition-{key}": value for key, value in data.items()}
    return client._client.post("/referrals/add-information",
                                data={**fields, "addition-csrf_token": token})


def additions_to(db, referral) -> list[ReferralAddition]:
    return list(db.session.scalars(
        select(ReferralAddition).where(ReferralAddition.referral_id == referral.id)))


def test_a_duplicate_from_the_same_practice_offers_a_prefilled_addition_form(
    client, referrer, make, valid_form, page
):
    open_one = make.referral(referrer.practice)
    data = valid_form(nhs_number=open_one.patient.nhs_number, reasons=["loneliness", "other"],
                      reason_other="Recently bereaved", urgency="urgent",
                      what_matters="Wants to sing again", phone="07700 900456")

    refused = page(client.submit("/referrals/new", data))

    assert refused.response.status_code == 422
    assert "Add your information to it below" in refused.error_for("nhs_number")
    form = refused.find(".//form[@action='/referrals/add-information']")
    assert form is not None
    text = "".join(form.find(".//textarea[@name='addition-text']").itertext())
    # Nothing the GP typed is lost: the words and new contact details are carried over.
    for typed in ("Wants to sing again", "Recently bereaved", "07700 900456"):
        assert typed in text
    assert {e.get("value") for e in form.findall(".//input[@name='addition-reasons']")
            if "checked" in e.attrib} == {"loneliness", "other"}
    assert form.find(".//input[@name='addition-urgency'][@value='urgent']").get("checked") \
        is not None
    assert open_one.reference in refused.text()  # their own practice's: named and linked


def test_sending_the_addition_stores_it_tells_the_connector_and_shows_on_the_timeline(
    client, referrer, make, db, page
):
    connector = make.user(Role.CONNECTOR, team=referrer.practice.team)
    open_one = make.referral(referrer.practice, connector=connector)
    db.session.commit()

    response = post_addition(client, {"nhs_number": open_one.patient.nhs_number,
                                      "text": "Her husband died last month.",
                                      "reasons": "bereavement", "urgency": "urgent"})

    assert response.status_code == 302
    assert response.location == f"/referrals/{open_one.id}"
    [added] = additions_to(db, open_one)
    assert (added.text, added.reasons, added.urgency.value) == (
        "Her husband died last month.", ["bereavement"], "urgent")
    assert (added.from_practice_id, added.author_id) == (referrer.practice_id, referrer.id)
    [told] = db.session.scalars(select(Notification).where(Notification.user_id == connector.id))
    assert open_one.reference in told.title and told.url == f"/caseload/referrals/{open_one.id}/history"
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "add-information", AuditEvent.entity_id == open_one.id)).first()
    shown = page(client.get(response.location))
    assert "Your information was added to referral" in shown.text()
    entries = [" ".join("".join(li.itertext()).split())
               for li in shown.findall(".//ol[@class='kindly-timeline']/li")]
    assert any("Information added by" in e and "Her husband died last month." in e
               for e in entries)


def test_another_practices_referral_gets_the_information_without_being_shown(
    client, login_as, make, db, valid_form, page
):
    team = make.team()
    theirs = make.practice(team)
    open_one = make.referral(theirs)  # unassigned: waits in the team's queue
    coordinator = make.user(Role.COORDINATOR, team=team)
    db.session.commit()
    login_as(Role.REFERRER, practice=make.practice(team))

    refused = page(client.submit("/referrals/new", valid_form(
        nhs_number=open_one.patient.nhs_number, what_matters="Lonely since moving")))

    assert refused.response.status_code == 422
    assert "Send your information to the team below" in refused.error_for("nhs_number")
    assert open_one.reference not in refused.html
    assert f"/referrals/{open_one.id}" not in refused.html
    assert refused.find(".//form[@action='/referrals/add-information']") is not None

    response = post_addition(client, {"nhs_number": open_one.patient.nhs_number,
                                      "text": "Lonely since moving"})

    assert response.status_code == 302 and response.location == "/referrals"
    listing = client.get("/referrals").get_data(as_text=True)
    assert "sent to the connector team" in listing and open_one.reference not in listing
    [added] = additions_to(db, open_one)
    assert added.from_practice_id != open_one.practice_id
    assert db.session.scalars(select(Notification).where(
        Notification.user_id == coordinator.id)).first() is not None


def test_a_practice_never_sees_what_another_practice_added(client, login_as, make, db, page):
    team = make.team()
    ours = make.practice(team)
    open_one = make.referral(ours)
    other_gp = make.user(Role.REFERRER, practice=make.practice(team))
    additions.add_information(additions.AdditionRequest(
        open_one.patient.nhs_number, "Seen at our surgery"), actor=other_gp)
    db.session.commit()
    login_as(Role.REFERRER, practice=ours)

    shown = page(client.get(f"/referrals/{open_one.id}"))

    assert shown.response.status_code == 200
    assert "Seen at our surgery" not in shown.html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"text": "  "}, "text", "Enter the information you want to add"),
    ({"text": "x" * 4001}, "text", "Information must be 4000 characters or fewer"),
])
def test_an_addition_with_errors_is_shown_again_with_the_error(
    client, referrer, make, db, page, data, field, message
):
    open_one = make.referral(referrer.practice)
    db.session.commit()

    response = post_addition(client, {"nhs_number": open_one.patient.nhs_number, **data})

    assert response.status_code == 422
    shown = page(response)
    assert shown.error_for(f"addition-{field}") == message
    assert shown.summary_links()[f"#addition-{field}"] == message
    assert additions_to(db, open_one) == []


def test_an_addition_after_the_referral_closed_says_to_refer_again(
    client, referrer, make, db, page
):
    closed = make.referral(referrer.practice, status=ReferralStatus.CANCELLED)
    db.session.commit()

    response = post_addition(client, {"nhs_number": closed.patient.nhs_number, "text": "News"})

    assert response.status_code == 422
    assert additions.NO_OPEN_REFERRAL in page(response).text()


def test_only_referring_gps_may_add_and_only_to_an_open_referral(make, db):
    open_one = make.referral()
    other_gp = make.user(Role.REFERRER)
    manager = make.user(Role.MANAGER, practice=open_one.practice)
    connector = make.user(Role.CONNECTOR, team=open_one.team)

    assert access.can(other_gp, Action.ADD_INFORMATION, open_one)
    assert not access.can(manager, Action.ADD_INFORMATION, open_one)
    assert not access.can(connector, Action.ADD_INFORMATION, open_one)
    with pytest.raises(NotPermitted):
        additions.add_information(additions.AdditionRequest(
            open_one.patient.nhs_number, "x"), actor=manager)
    with pytest.raises(IntakeInvalid):
        additions.add_information(additions.AdditionRequest("123", "x"), actor=other_gp)


def test_the_connector_sees_another_practices_addition_on_the_workspace(
    client, login_as, make, db
):
    team = make.team()
    connector = login_as(Role.CONNECTOR, team=team)
    open_one = make.referral(make.practice(team), connector=connector,
                             status=ReferralStatus.ACCEPTED)
    other_gp = make.user(Role.REFERRER, practice=make.practice(team, name="Elm Surgery"))
    additions.add_information(additions.AdditionRequest(
        open_one.patient.nhs_number, "Seen at our surgery"), actor=other_gp)
    db.session.commit()

    html = client.get(f"/caseload/referrals/{open_one.id}/history").get_data(as_text=True)

    assert "Information added by Elm Surgery" in html
    assert "Seen at our surgery" in html

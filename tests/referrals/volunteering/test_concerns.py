"""Safeguarding concerns: a volunteer about a match, a partner about a handover; every
coordinator told at once, the hub emailed when none signed in today; audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.models import (
    AuditEvent,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    DirectoryOrganisation,
    LoginAttempt,
    Notification,
    Offer,
    OfferStatus,
    OutboxMessage,
    Role,
    SafeguardingConcern,
    utcnow,
)
from referrals.volunteering import concerns, service
from tests.referrals.volunteering.test_views import sign_in


@pytest.fixture
def match(app, hub, referral, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        weekly = service.create_request(referral, need="befriending_calls", when=[],
                                        notes="", actor=hub.connector)
        return service.propose(weekly, dave, actor=hub.connector)


@pytest.fixture
def handover(db, referral, hub):
    organisation = DirectoryOrganisation(id="org-walkers", name="Kindlebury Walkers")
    offer = Offer(id="offer-walk", name="Walking group", status=OfferStatus.ACTIVE,
                  organisation=organisation, languages=[])
    connection = Connection(referral_id=referral.id, offer=offer, kind=ConnectionKind.REFERRAL,
                            status=ConnectionStatus.TAKEN_ON, created_by_id=hub.connector.id)
    db.session.add(connection)
    db.session.flush()
    return connection


def partner_of(make, organisation_id: str):
    user = make.user(Role.PARTNER)
    user.organisation_id = organisation_id
    return user


def test_a_volunteers_concern_reaches_every_coordinator_at_once_and_is_audited(
        app, db, make, hub, match, referral):
    second = make.user(Role.COORDINATOR, team=hub.team)
    away = make.user(Role.COORDINATOR, team=hub.team)
    away.active = False
    db.session.add(LoginAttempt(email=hub.coordinator.email, at=utcnow(), succeeded=True))
    with app.test_request_context():
        raised = concerns.raise_concern(actor=match.volunteer.user, concern="Bruises on her arm",
                                        match=match)
    told = set(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "safeguarding-concern")))
    assert told == {hub.coordinator.id, second.id}
    assert not raised.hub_emailed
    assert db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.to == app.config["HUB_EMAIL"])) is None
    audit = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "safeguarding-concern")).one()
    assert audit.patient_id == referral.patient_id and audit.entity_id == raised.id


def test_the_hub_is_emailed_when_no_coordinator_signed_in_today(app, db, hub, match):
    # Signed in yesterday: that does not count.
    db.session.add(LoginAttempt(email=hub.coordinator.email, succeeded=True,
                                at=utcnow() - timedelta(days=1, hours=1)))
    with app.test_request_context():
        raised = concerns.raise_concern(actor=match.volunteer.user, concern="Not eating",
                                        immediate_danger=True, contact_phone="07700 900321",
                                        match=match)
    assert raised.hub_emailed
    mail = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to == app.config["HUB_EMAIL"])).one()
    assert mail.subject.startswith("URGENT safeguarding concern")
    # The email says a concern was raised and by whom; what it is, about whom, and how to
    # reach anyone stay in Kindly (referrals.sharing: EMAIL, whatever the kind).
    sent = f"{mail.subject}\n{mail.body}"
    person = match.request.referral.patient
    for words in ("Not eating", "07700 900321", person.given_name, person.family_name,
                  person.phone, person.postcode, person.nhs_number):
        assert words not in sent, words


def test_a_partner_raises_a_concern_about_their_own_handover_only(app, db, make, hub,
                                                                 handover):
    mine = partner_of(make, "org-walkers")
    db.session.add(DirectoryOrganisation(id="org-other", name="Other"))
    db.session.flush()
    theirs = partner_of(make, "org-other")
    with app.test_request_context():
        raised = concerns.raise_concern(actor=mine, concern="Seemed frightened",
                                        connection=handover)
        assert raised.team_id == hub.team.id
        with pytest.raises(NotPermitted):
            concerns.raise_concern(actor=theirs, concern="x", connection=handover)
        with pytest.raises(CaseworkInvalid):
            concerns.raise_concern(actor=mine, concern="  ", connection=handover)


def test_another_volunteer_cannot_raise_a_concern_about_someone_elses_match(
        app, hub, match, volunteers):
    other = volunteers(hub.team, "Other Olly")
    with app.test_request_context(), pytest.raises(NotPermitted):
        concerns.raise_concern(actor=other.user, concern="x", match=match)


def test_the_concern_page_says_what_to_do_now_and_sends_it(app, client, db, match, hub):
    sign_in(client, db, match.volunteer.user)
    url = f"/volunteering/concerns/new?match={match.id}"
    page = client.get(url).get_data(as_text=True)
    assert "999" in page and app.config["SAFEGUARDING_LA_PHONE"] in page
    assert app.config["SAFEGUARDING_LA_NAME"] in page
    empty = client.submit(url, {"concern": ""})
    assert empty.status_code == 422
    assert "Enter what you are worried about" in empty.get_data(as_text=True)
    sent = client.submit(url, {"concern": "Fell at home", "contact_phone": "07700 900999"})
    assert sent.status_code == 302
    concern = db.session.scalars(select(SafeguardingConcern)).one()
    assert sent.headers["Location"].endswith(f"/volunteering/concerns/{concern.id}")
    assert "999" in client.get(sent.headers["Location"]).get_data(as_text=True)
    # Not about a match of theirs, or nonsense: as if it did not exist.
    for bad in ("?match=99999", "?match=x", "", f"?match={match.id}&connection=1"):
        assert client.get("/volunteering/concerns/new" + bad).status_code == 404
    sign_in(client, db, hub.coordinator)
    assert "Fell at home" in client.get(f"/volunteering/concerns/{concern.id}").get_data(
        as_text=True)
    assert f'id="concern-{concern.id}"' in client.get("/volunteering/requests").get_data(
        as_text=True)
    sign_in(client, db, hub.connector)
    assert client.get(f"/volunteering/concerns/{concern.id}").status_code == 403
    assert f'id="concern-{concern.id}"' not in client.get("/volunteering/requests").get_data(
        as_text=True)

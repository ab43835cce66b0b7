""""How can you help?": a member of the public offers to volunteer. Every field is
checked, the sign-up reaches the hub's coordinators placed on the map, and bots and
floods are turned away without storing anything (issue 15)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, PostcodePlace, Volunteer, VolunteerStatus
from tests.referrals.intake.conftest import Page
from tests.referrals.volunteers.conftest import SIGN_UP, send


def volunteers(db) -> list[Volunteer]:
    return list(db.session.scalars(select(Volunteer).order_by(Volunteer.id)))


def test_the_form_asks_every_question_with_a_label(client, team):
    page = Page(client.get(SIGN_UP))

    assert page.find(".//h1").text == "How can you help?"
    for field in ("given_name", "family_name", "email", "phone", "postcode", "travel_miles",
                  "skills", "availability_note"):
        assert page.label_for(field), field
    text = page.text()
    for offer in ("Befriending phone calls", "Lifts", "Shopping", "Walking buddy",
                  "Helping at a group", "Skills"):
        assert offer in text
    assert "Monday" in text and "Evening" in text
    assert "Which hub" not in text  # one hub: nothing to choose


def test_a_sign_up_is_stored_for_the_hub_placed_on_the_map_and_audited(client, signup, team,
                                                                        db):
    db.session.add(PostcodePlace(postcode="KB1 2AA", latitude=52.1, longitude=-1.2))
    db.session.commit()

    response = send(client, signup(offers=["befriending_calls", "skills"],
                                   skills="Gardening", availability_note="Not in August"))

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/volunteer/thank-you")
    [volunteer] = volunteers(db)
    assert (volunteer.team_id, volunteer.status) == (team.id, VolunteerStatus.APPLIED)
    assert (volunteer.name, volunteer.email, volunteer.postcode) == (
        "Dave Wilson", "dave@example.com", "KB1 2AA")
    assert (volunteer.latitude, volunteer.longitude) == (52.1, -1.2)
    assert volunteer.offers == ["befriending_calls", "skills"]
    assert volunteer.skills == "Gardening"
    assert volunteer.availability == ["mon-morning", "wed-evening"]
    assert volunteer.travel_km == pytest.approx(8.0, abs=0.1)
    assert volunteer.consent_to_contact is True
    assert volunteer.user_id is None
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "volunteer", AuditEvent.entity_id == volunteer.id)).one()
    assert event.action == "create" and event.origin.startswith("client:")
    thanks = Page(client.get(response.headers["Location"]))
    assert "Thank you, Dave." in thanks.text()


@pytest.mark.parametrize(("change", "errors"), [
    ({"given_name": "", "email": "dave.example.com", "phone": "call me", "postcode": "KB1",
      "offers": None, "availability": None, "travel_miles": "far", "consent": None}, {
        "given_name": "Enter your first name",
        "email": "Enter an email address in the correct format, like name@example.com",
        "phone": "Enter a phone number, like 01632 960 001 or 07700 900 982",
        "postcode": "Enter a real UK postcode, like KB1 1AB",
        "offers": "Select at least one way you could help",
        "availability": "Select at least one time you are usually free",
        "travel_miles": "Enter how far you could travel as a whole number of miles, like 5",
        "consent": "Tick the box to agree that the hub may contact you. "
                   "Without it we cannot take your offer"}),
    ({"offers": ["skills"], "availability": ["mon-midnight"], "travel_miles": "500"}, {
        "skills": "Tell us which skills you could share",
        "availability": "Select at least one time you are usually free",
        "travel_miles": "How far you could travel must be 50 miles or fewer"}),
    ({"offers": ["teleportation"], "skills": "x" * 1001}, {
        "offers": "Select at least one way you could help",
        "skills": "Skills must be 1000 characters or fewer"}),
], ids=["missing", "wrong", "unknown-offer"])
def test_each_mistake_is_shown_next_to_its_field_and_nothing_is_stored(
        client, signup, db, change, errors):
    response = send(client, signup(**change))
    page = Page(response)

    assert response.status_code == 422
    assert page.find(".//title").text.startswith("Error: ")
    assert page.summary_links() == {f"#{field}": message for field, message in errors.items()}
    for field, message in errors.items():
        assert page.error_for(field) == message
        assert page.by_id(field) is not None  # the summary's link lands on the field
    assert page.value_of("family_name") == "Wilson"  # what was typed stays
    assert volunteers(db) == []


def test_with_several_hubs_the_person_chooses_one(client, signup, make, team, db):
    other = make.practice(name="Vale Surgery").team
    db.session.commit()

    missing = send(client, signup())
    chosen = send(client, signup(hub=str(other.id)))

    assert missing.status_code == 422
    assert Page(missing).summary_links() == {"#hub": "Select the hub you would like to help"}
    assert chosen.status_code == 303
    assert [v.team_id for v in volunteers(db)] == [other.id]


def test_the_nearest_hub_is_the_one_with_a_practice_nearest_the_postcode(
        client, signup, make, team, db):
    far = make.practice(name="Vale Surgery", postcode="KB9 9ZZ").team
    db.session.add_all([
        PostcodePlace(postcode="KB1 1AB", latitude=52.00, longitude=-1.00),  # team's practice
        PostcodePlace(postcode="KB9 9ZZ", latitude=52.30, longitude=-1.40),  # the far one
        PostcodePlace(postcode="KB9 1AA", latitude=52.29, longitude=-1.39),  # near the far one
    ])
    db.session.commit()

    near_far = send(client, signup(hub="nearest", postcode="KB9 1AA"))
    unknown = send(client, signup(hub="nearest", postcode="KB7 7AA"))

    assert near_far.status_code == 303
    assert [v.team_id for v in volunteers(db)] == [far.id]
    assert unknown.status_code == 422
    assert Page(unknown).summary_links() == {"#hub": (
        "We could not find your postcode on the map. Select the hub you would like to help")}


def test_a_bot_filling_the_honeypot_is_told_it_worked_and_nothing_is_stored(client, signup, db):
    response = send(client, signup(website="http://spam.example"))

    assert response.status_code == 303
    assert volunteers(db) == []


def test_a_form_sent_at_once_is_refused_and_keeps_what_was_typed(client, signup, db):
    response = send(client, signup(), seconds_ago=0)

    assert response.status_code == 422
    assert "sent very quickly" in Page(response).text()
    assert Page(response).value_of("email") == "dave@example.com"
    assert volunteers(db) == []


def test_too_many_sign_ups_from_one_client_get_a_429(client, signup, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "VOLUNTEER_SIGNUP_RATE_LIMIT", {"hour": 2})
    for n in range(2):
        assert send(client, signup(given_name=f"Person{n}")).status_code == 303

    response = send(client, signup(given_name="Third"))

    assert response.status_code == 429
    assert "try again later" in Page(response).text()
    assert Page(response).value_of("given_name") == "Third"
    assert len(volunteers(db)) == 2
    # Self-referrals keep their own count: the volunteer sign-ups do not use it up.
    assert send(client, signup(given_name="Fourth"),
                environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 303

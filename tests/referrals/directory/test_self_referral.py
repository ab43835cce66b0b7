""""Ask a connector to contact me": a self-referral from the public site reaches the
practice team's triage queue, flagged, through the same intake service as every
referral, and bots and floods are turned away without storing anything."""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from referrals.config import load_config
from referrals.directory import ratelimit
from referrals.errors import IntakeInvalid
from referrals.intake.service import create_referral
from referrals.models import (
    AuditEvent,
    ConsentGivenBy,
    ConsentMethod,
    Offer,
    OfferStatus,
    Patient,
    Practice,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Role,
    Sex,
)
from tests.referrals.intake.conftest import Page, text_of

URL = "/directory/ask-a-connector"
SENT = "/directory/ask-a-connector/sent"
CHECK_DIGIT_MESSAGE = (
    "This is not a valid NHS number: its check digit does not match. "
    "Check each digit and enter it again"
)
CONSENT = "I agree that Kindly's connectors may contact me and tell my GP practice"


@pytest.fixture
def practice(make):
    """A practice whose connector team has one connector with room."""
    practice = make.practice(name="Kindlebury Health Centre")
    practice.connector = make.user(Role.CONNECTOR, team=practice.team, capacity=10)
    return practice


@pytest.fixture
def form(practice, db):
    """Form data for a self-referral that passes every rule; override any field."""
    db.session.commit()

    def build(**overrides):
        data = {
            "given_name": "Mary", "family_name": "Jones",
            "birth_date-day": "4", "birth_date-month": "7", "birth_date-year": "1948",
            "postcode": "kb1 1ab", "phone": "07700 900 123", "email": "",
            "preferred_contact": "phone", "practice": str(practice.id),
            "what_would_help": "I would like to meet people, I have been on my own since March.",
            "nhs_number": "", "consent": "y",
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return build


def send(client, data, *, seconds_ago=60, page=URL, **kwargs):
    """Post the form as a person would: with its CSRF token, some time after seeing it."""
    secret = client.application.config["SECRET_KEY"]
    data = {"shown": ratelimit.shown_token(secret, at=time.time() - seconds_ago), **data}
    return client.submit(URL, data, page=page, **kwargs)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def self_referrals(db) -> list[Referral]:
    return list(db.session.scalars(select(Referral).where(Referral.source == "self")))


def sign_in(client, user):
    response = client.submit("/login", {"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 302


# --- the form ---------------------------------------------------------------------------


def test_the_form_asks_for_what_a_connector_needs_with_labels(client, practice, db):
    no_team = Practice(ods_code="N00001", name="Elsewhere Surgery")
    db.session.add(no_team)
    db.session.commit()

    page = Page(client.get(URL))

    for field_id, label in [("given_name", "First name"), ("family_name", "Last name"),
                            ("postcode", "Postcode"), ("phone", "Phone number"),
                            ("email", "Email address"), ("practice", "Your GP practice"),
                            ("what_would_help", "What would help you?"),
                            ("nhs_number", "NHS number (optional)"), ("consent", CONSENT)]:
        assert label in page.label_for(field_id), field_id
    assert page.label_for("birth_date-day") == ["Day", "Date of birth"]
    practices = [text_of(o) for o in page.findall(".//select[@name='practice']/option")]
    assert practices == ["Select your GP practice", "Kindlebury Health Centre"]


def test_the_honeypot_is_hidden_from_people_and_out_of_the_tab_order(client, practice):
    page = Page(client.get(URL))
    trap = page.by_id(ratelimit.HONEYPOT_FIELD)

    assert trap.get("tabindex") == "-1"
    assert trap.get("autocomplete") == "off"
    assert page.parents[trap].get("aria-hidden") == "true"
    assert page.label_for(ratelimit.HONEYPOT_FIELD) == ["Leave this blank"]


def test_asking_from_an_offers_page_notes_the_offer(client, practice, db):
    offer = Offer(id="offer-walk", name="Tuesday Strollers", status=OfferStatus.ACTIVE)
    closed = Offer(id="offer-closed", name="Old Choir", status=OfferStatus.INACTIVE)
    db.session.add_all([offer, closed])
    db.session.commit()

    noted = Page(client.get(f"{URL}?offer=offer-walk")).value_of("what_would_help")

    assert "Tuesday Strollers" in noted
    assert Page(client.get(f"{URL}?offer=offer-closed")).value_of("what_would_help") == ""
    assert client.get(f"{URL}?offer=%00").status_code == 200


# --- a self-referral that passes ------------------------------------------------------------


def test_a_valid_self_referral_is_stored_through_the_intake_service(client, form, practice, db):
    response = send(client, form())

    assert response.status_code == 303
    assert response.location.endswith(SENT)
    [referral] = self_referrals(db)
    patient = referral.patient
    assert (patient.given_name, patient.family_name, patient.birth_date) == (
        "Mary", "Jones", date(1948, 7, 4))
    assert patient.nhs_number is None
    assert patient.sex is Sex.UNKNOWN
    assert (patient.postcode, patient.phone, patient.practice) == ("KB1 1AB", "07700 900 123",
                                                                  practice)
    assert referral.status is ReferralStatus.RECEIVED
    assert referral.reference.startswith("KND-")
    assert referral.is_self_referral
    assert referral.what_matters.startswith("I would like to meet people")
    assert [(r.code, r.detail) for r in referral.reasons] == [("other", "Self-referral")]
    assert (referral.risks, referral.no_known_risks) == ([], False)
    assert (referral.consent_given_by, referral.consent_method) == (
        ConsentGivenBy.PERSON, ConsentMethod.WRITTEN)
    assert referral.referrer is None and referral.referrer_name == "Self-referral"
    assert referral.team == practice.team


def test_the_confirmation_shows_the_first_name_and_the_reference_number_once(
        client, form, db):
    response = send(client, form())
    # Post/redirect/get: the reference rides in the session, never in the address.
    assert response.status_code == 303 and response.location == SENT
    [referral] = self_referrals(db)
    text = Page(client.get(SENT)).text()

    assert "Thank you, Mary." in text
    assert f"Your reference number {referral.reference}" in text
    for private in ["Jones", "07700", "KB1 1AB", "1948", "meet people"]:
        assert private not in text
    # Shown once: neither the name nor the reference lingers in the session.
    again = Page(client.get(SENT)).text()
    assert "Mary" not in again and "KND-" not in again


def test_a_self_referral_is_routed_to_a_connector_like_any_referral(client, form, practice, db):
    send(client, form())

    [referral] = self_referrals(db)
    assert referral.connector == practice.connector
    assert referral.first_contact_due is not None
    assignment = db.session.scalars(select(ReferralEvent).where(
        ReferralEvent.referral_id == referral.id, ReferralEvent.kind == "assignment")).one()
    assert assignment.reason.startswith(f"Assigned to {practice.connector.name}")


def test_it_lands_in_the_team_triage_queue_flagged_as_a_self_referral(client, form, practice, db):
    send(client, form())
    sign_in(client, practice.connector)

    queue = Page(client.get("/caseload/queue"))
    row = next(tr for tr in queue.findall(".//tbody/tr") if "Mary Jones" in text_of(tr))

    assert "Self-referral" in text_of(row)
    assert "NHS number: not given" in text_of(row)


def test_the_workspace_and_the_practices_page_show_the_flag(client, form, practice, db, make):
    send(client, form())
    [referral] = self_referrals(db)
    sign_in(client, practice.connector)

    workspace = Page(client.get(f"/caseload/referrals/{referral.id}"))
    assert "Self-referral" in workspace.text()
    assert "NHS number Not given" in workspace.text()

    client.post("/logout", data={"csrf_token": client.csrf_token("/caseload")})
    sign_in(client, make.user(Role.REFERRER, practice=practice))
    db.session.commit()
    shown = Page(client.get(f"/referrals/{referral.id}"))
    assert "Self-referral" in shown.text()
    assert "NHS number Not given" in shown.text()


def test_the_audit_trail_records_the_self_referral_without_the_client_address(client, form, db):
    send(client, form(), environ_base={"REMOTE_ADDR": "198.51.100.7"})

    [referral] = self_referrals(db)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "create", AuditEvent.entity_id == referral.id)).one()
    assert event.detail["source"] == "self"
    assert event.detail["origin"].startswith("client:")
    assert "198.51.100.7" not in str(event.detail)
    assert event.actor_id is None


def test_a_valid_nhs_number_is_kept(client, form, make, db):
    number = make.nhs_number()

    send(client, form(nhs_number=f"{number[:3]}-{number[3:6]}-{number[6:]}"))

    [referral] = self_referrals(db)
    assert referral.patient.nhs_number == number


def test_someone_with_an_open_referral_is_told_so_and_nothing_is_stored(client, form, make, db,
                                                                        practice):
    existing = make.referral(practice, person={"given_name": "Mary", "family_name": "Jones",
                                               "birth_date": date(1948, 7, 4)})
    db.session.commit()
    before = count(db, Referral)

    response = send(client, form(nhs_number=existing.patient.nhs_number, given_name="mary "))
    assert response.status_code == 303  # post/redirect/get, as for any answer
    text = Page(client.get(response.location)).text()

    assert "You already have an open referral; a connector will be in touch" in text
    assert existing.reference not in text
    assert count(db, Referral) == before


def test_a_returning_person_gets_a_new_referral_on_their_record(client, form, make, db, practice):
    closed = make.referral(practice, status=ReferralStatus.COMPLETED,
                           person={"given_name": "Mary", "family_name": "Jones",
                                   "birth_date": date(1948, 7, 4), "sex": Sex.FEMALE})
    db.session.commit()

    send(client, form(nhs_number=closed.patient.nhs_number, phone="07700 900 999"))

    [referral] = self_referrals(db)
    assert referral.patient_id == closed.patient_id
    db.session.refresh(closed.patient)
    assert closed.patient.phone == "07700 900 999"
    assert closed.patient.sex is Sex.FEMALE  # not asked, so not overwritten


def test_someone_elses_nhs_number_never_touches_their_record_or_reveals_it(client, form, make,
                                                                           db, practice):
    other = make.referral(practice, person={"given_name": "Peter", "family_name": "Smith",
                                            "phone": "07700 900 555"})
    db.session.commit()

    response = send(client, form(nhs_number=other.patient.nhs_number))

    assert response.status_code == 303 and response.location.endswith(SENT)
    [referral] = self_referrals(db)
    assert referral.patient_id != other.patient_id
    assert referral.patient.nhs_number is None
    assert "did not match" in referral.reasons[0].detail
    db.session.refresh(other.patient)
    assert (other.patient.given_name, other.patient.phone) == ("Peter", "07700 900 555")


# --- a self-referral that does not pass -----------------------------------------------------


def test_mistakes_are_shown_next_to_their_fields_and_nothing_is_stored(client, form, db):
    before = (count(db, Referral), count(db, Patient))

    response = send(client, form(given_name="", family_name="Jones-Smith", **{
        "birth_date-day": "31", "birth_date-month": "2", "birth_date-year": ""}, phone="", email="", practice="",
        what_would_help="", consent=None, nhs_number="999 123 4569", postcode="kb1"))
    page = Page(response)

    assert response.status_code == 422
    assert page.error_for("given_name") == "Enter your first name"
    assert page.error_for("birth_date") == "Date of birth must include a year"
    assert page.error_for("postcode") == "Enter a real UK postcode, like KB1 1AB"
    assert page.error_for("phone") == (
        "Enter a phone number or an email address, so a connector can contact you")
    assert page.error_for("practice") == "Select your GP practice"
    assert page.error_for("what_would_help") == "Tell us what would help you"
    assert page.error_for("nhs_number") == CHECK_DIGIT_MESSAGE
    assert page.error_for("consent").startswith("Tick the box to agree")
    # The summary links to the box the mistake is in.
    assert page.summary_links()["#birth_date-year"] == "Date of birth must include a year"
    assert page.summary_links()["#given_name"] == "Enter your first name"
    assert page.find(".//title").text.startswith("Error: ")
    # What was typed stays.
    assert page.value_of("family_name") == "Jones-Smith"
    assert page.value_of("birth_date-day") == "31"
    assert page.value_of("nhs_number") == "999 123 4569"
    assert page.value_of("postcode") == "kb1"
    assert (count(db, Referral), count(db, Patient)) == before


def test_consent_is_required(client, form, db):
    response = send(client, form(consent=None))

    assert response.status_code == 422
    assert Page(response).error_for("consent") == (
        "Tick the box to agree that a connector may contact you and tell your GP practice. "
        "Without it we cannot pass on your request")
    assert Page(response).value_of("what_would_help").startswith("I would like")
    assert self_referrals(db) == []


@pytest.mark.parametrize("parts, message", [
    ({"birth_date-day": "", "birth_date-month": "", "birth_date-year": ""},
     "Enter your date of birth"),
    ({"birth_date-day": "30", "birth_date-month": "2", "birth_date-year": "1950"},
     "Date of birth must be a real date"),
    ({"birth_date-day": "1", "birth_date-month": "1", "birth_date-year": "50"},
     "Year must include 4 numbers, for example 1950"),
    ({"birth_date-day": "one", "birth_date-month": "1", "birth_date-year": "1950"},
     "Date of birth must be a real date, in numbers"),
    ({"birth_date-day": "1", "birth_date-month": "1", "birth_date-year": "2999"},
     "Date of birth must be in the past"),
    ({"birth_date-day": "1", "birth_date-month": "1", "birth_date-year": "1850"},
     "Date of birth must be within the last 120 years"),
])
def test_a_date_of_birth_must_be_real_and_past(client, form, db, parts, message):
    response = send(client, form(**parts))

    assert Page(response).error_for("birth_date") == message
    assert self_referrals(db) == []


def test_the_preferred_way_of_contact_must_be_possible(client, form):
    email_wanted = Page(send(client, form(preferred_contact="email")))
    phone_wanted = Page(send(client, form(preferred_contact="text", phone="",
                                          email="mary@example.com")))

    assert email_wanted.error_for("email") == (
        "Enter your email address, or choose a phone call or text")
    assert phone_wanted.error_for("phone") == "Enter your phone number, or choose email"


def test_an_email_address_alone_is_enough_to_be_contacted(client, form, db):
    response = send(client, form(phone="", email="mary@example.com", preferred_contact=""))

    assert response.status_code == 303
    [referral] = self_referrals(db)
    assert referral.patient.email == "mary@example.com"


def test_what_would_help_is_at_most_2000_characters(client, form, db):
    response = send(client, form(what_would_help="x" * 2001))

    assert Page(response).error_for("what_would_help") == (
        "What would help must be 2000 characters or fewer")
    assert send(client, form(what_would_help="x" * 2000)).status_code == 303


@pytest.mark.parametrize("overrides", [
    {"given_name": "\x00Mary", "what_would_help": "help\x00"},
    {"practice": "not-a-number"}, {"practice": "99999999999999999999"},
    {"preferred_contact": "pigeon"}, {"preferred_contact": "letter"},
    {"birth_date-day": "٣", "birth_date-month": "1", "birth_date-year": "1950"},
    {"birth_date-year": "99999999"}, {"phone": "call me maybe"}, {"phone": "1" * 40},
    {"email": "not-an-email"}, {"nhs_number": "x" * 500}, {"postcode": "K" * 500},
    {"given_name": "M" * 101},
])
def test_nonsense_is_refused_politely_never_with_a_500(client, form, db, overrides):
    response = send(client, form(**overrides))

    assert response.status_code in (303, 422)
    if response.status_code == 422:
        assert Page(response).summary_links()


def test_the_form_needs_its_csrf_token(client, form, db):
    secret = client.application.config["SECRET_KEY"]
    client.get(URL)

    response = client.post(URL, data={**form(), "shown": ratelimit.shown_token(secret, at=0)})

    assert response.status_code == 400
    assert self_referrals(db) == []


# --- spam protection ------------------------------------------------------------------------


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(client, form, db):
    before = (count(db, Referral), count(db, Patient), count(db, AuditEvent))

    response = send(client, form(website="https://cheap-pills.example"))

    assert response.status_code == 303 and response.location.endswith(SENT)
    assert "Thank you, Mary." in Page(client.get(SENT)).text()
    assert (count(db, Referral), count(db, Patient), count(db, AuditEvent)) == before


def test_a_honeypot_bot_is_not_told_about_its_mistakes_either(client, form, db):
    response = send(client, form(website="x", given_name="", consent=None))

    assert response.status_code == 303
    assert self_referrals(db) == []


TOO_FAST = ("This form was sent very quickly after it opened, so we could not tell that a "
            "person sent it. Nothing has been sent yet. Check your answers, then select Send "
            "again.")


def test_a_form_sent_faster_than_a_person_can_type_is_refused_saying_so_keeping_the_answers(
        client, form, db, monkeypatch):
    response = send(client, form(), seconds_ago=1)

    page = Page(response)
    assert response.status_code == 422
    assert page.summary_links()["#send"] == TOO_FAST
    assert page.value_of("given_name") == "Mary"
    assert page.value_of("birth_date-year") == "1948"
    assert "on my own since March" in page.value_of("what_would_help")
    assert self_referrals(db) == []
    # Sent again a few seconds later (the page keeps when it was first shown), it goes.
    now = time.time()
    monkeypatch.setattr(ratelimit.time, "time", lambda: now + ratelimit.MIN_FILL_SECONDS)
    later = client.submit(URL, {**form(), "shown": page.value_of("shown")})
    assert later.status_code == 303 and len(self_referrals(db)) == 1


@pytest.mark.parametrize("shown", ["", "forged", "MTcwMDAwMDAwMA.bad-signature"])
def test_a_form_without_a_genuine_shown_time_is_refused_saying_so(client, form, db, shown):
    response = client.submit(URL, {**form(), "shown": shown})

    assert response.status_code == 422
    assert TOO_FAST in Page(response).text()
    assert self_referrals(db) == []


def test_a_person_correcting_a_mistake_quickly_is_not_taken_for_a_bot(client, form, db):
    first = Page(send(client, form(consent=None), seconds_ago=30))
    shown = first.value_of("shown")

    # Ticking the box and sending again takes a second; the form still remembers
    # when it was first shown.
    response = client.submit(URL, {**form(), "shown": shown})

    assert response.status_code == 303
    assert len(self_referrals(db)) == 1


@pytest.fixture
def tight_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "SELF_REFERRAL_RATE_LIMIT", {"hour": 2, "day": 3})


def test_too_many_self_referrals_from_one_client_get_a_429_and_nothing_is_stored(
        client, form, db, tight_limit):
    for n in range(2):
        assert send(client, form(given_name=f"Person{n}")).status_code == 303

    response = send(client, form(given_name="Third", family_name="Try"))
    page = Page(response)

    assert response.status_code == 429
    assert "try again later" in page.text()
    assert page.value_of("given_name") == "Third"
    assert page.value_of("what_would_help").startswith("I would like")
    assert page.find(".//title").text.startswith("Error: ")
    assert len(self_referrals(db)) == 2


def test_the_limit_is_per_client(client, form, db, tight_limit):
    for n in range(2):
        send(client, form(given_name=f"Person{n}"))

    response = send(client, form(given_name="Neighbour"),
                    environ_base={"REMOTE_ADDR": "203.0.113.50"})

    assert response.status_code == 303
    assert len(self_referrals(db)) == 3


def test_the_daily_limit_outlasts_the_hourly_one(client, form, db, tight_limit):
    for n in range(3):
        send(client, form(given_name=f"Person{n}"))
        # Each one was made two hours ago, so the hourly limit has passed.
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "create")):
            event.at = event.at - timedelta(hours=2) if event.at > _an_hour_ago() else event.at
        db.session.commit()

    assert send(client, form(given_name="Fourth")).status_code == 429
    assert len(self_referrals(db)) == 3


def _an_hour_ago():
    from referrals.models import utcnow

    return utcnow() - timedelta(hours=1)


def test_limits_are_configurable_from_the_environment(monkeypatch):
    monkeypatch.setenv("KINDLY_SELF_REFERRAL_RATE_LIMIT", '{"minute": 1, "day": 10}')

    setting = load_config("test").SELF_REFERRAL_RATE_LIMIT

    assert ratelimit.limits_from(setting) == [ratelimit.Limit(1, "minute"),
                                              ratelimit.Limit(10, "day")]
    with pytest.raises(ValueError, match="unknown window 'week'"):
        ratelimit.limits_from({"week": 3})


def test_the_client_origin_is_a_keyed_hash():
    a = ratelimit.client_origin("203.0.113.9", "secret-1")

    assert a == ratelimit.client_origin("203.0.113.9", "secret-1")
    assert a != ratelimit.client_origin("203.0.113.10", "secret-1")
    assert a != ratelimit.client_origin("203.0.113.9", "secret-2")
    assert "203.0.113.9" not in a


# --- the intake service's rules for self-referrals ----------------------------------------


def test_only_a_self_referral_may_omit_the_nhs_number_and_risks(make, db):
    practice = make.practice()
    person = {"nhs_number": "", "sex": Sex.UNKNOWN}

    referral = create_referral(make.intake(practice, person=person, no_known_risks=False,
                                           source="self"), actor=None)
    with pytest.raises(IntakeInvalid) as refused:
        create_referral(make.intake(practice, person=person, no_known_risks=False,
                                    source="form"), actor=None)

    assert referral.patient.nhs_number is None
    assert set(refused.value.errors) == {"nhs_number", "risks"}


def test_people_without_nhs_numbers_are_never_taken_for_each_other(make, db):
    practice = make.practice()
    person = {"nhs_number": ""}

    first = create_referral(make.intake(practice, person=person, source="self"), actor=None)
    second = create_referral(make.intake(practice, person=person, source="self"), actor=None)

    assert first.patient_id != second.patient_id
    assert (first.status, second.status) == (ReferralStatus.RECEIVED, ReferralStatus.RECEIVED)


# --- ethnic group: optional, Z when they prefer not to say, 99 when not answered ---------

ETHNIC_LEGEND = "What is your ethnic group? (optional)"


def test_the_public_form_asks_it_optionally_with_prefer_not_to_say(client, practice, db):
    db.session.commit()
    page = Page(client.get(URL))
    assert page.label_for("ethnic_category")[1:] == ["White", ETHNIC_LEGEND]
    assert page.label_for("ethnic_category-Z") == ["Prefer not to say", ETHNIC_LEGEND]
    assert page.checked("ethnic_category") == []


def test_the_answer_is_stored_and_no_answer_is_99(client, form, db):
    assert send(client, form(ethnic_category="M")).status_code == 303
    assert self_referrals(db)[0].patient.ethnic_category == "M"


def test_not_answering_is_stored_as_not_asked(client, form, db):
    assert send(client, form()).status_code == 303
    assert self_referrals(db)[0].patient.ethnic_category == "99"


def test_prefer_not_to_say_is_z(client, form, db):
    assert send(client, form(ethnic_category="Z")).status_code == 303
    assert self_referrals(db)[0].patient.ethnic_category == "Z"


def test_an_unknown_code_is_an_error_next_to_the_field(client, form, db):
    response = send(client, form(ethnic_category="<script>"))
    assert response.status_code == 422
    page = Page(response)
    assert page.error_for("ethnic_category").startswith("Unknown ethnic category")
    assert "#ethnic_category" in page.summary_links()
    assert db.session.scalars(select(Referral)).first() is None


def test_a_returning_person_who_leaves_it_blank_keeps_the_recorded_code(client, form, make, db,
                                                                        practice):
    closed = make.referral(practice, status=ReferralStatus.COMPLETED,
                           person={"given_name": "Mary", "family_name": "Jones",
                                   "birth_date": date(1948, 7, 4), "ethnic_category": "N"})
    db.session.commit()
    assert send(client, form(nhs_number=closed.patient.nhs_number)).status_code == 303
    referral = self_referrals(db)[0]
    assert referral.patient_id == closed.patient_id
    db.session.refresh(closed.patient)
    assert closed.patient.ethnic_category == "N"

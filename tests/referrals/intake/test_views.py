"""The practice pages: the referral form, the list, one referral and cancelling it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from referrals.intake.service import ReasonEntry
from referrals.models import (
    AuditEvent,
    Patient,
    Practice,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Role,
)

S = ReferralStatus

# The field names and labels other systems and tests rely on (issue 2, §6).
FIELDS = [
    ("nhs_number", "NHS number"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("birth_date-day", "Day"),  # the NHS.UK date input: day, month and year boxes
    ("sex", "Sex"),
    ("postcode", "Postcode"),
    ("phone", "Phone number"),
    ("email", "Email address"),
    ("preferred_contact", "Preferred contact method"),
    ("communication_needs", "Communication needs"),
    ("reasons", "Reasons for referral"),
    ("what_matters", "What matters to the person"),
    ("risks", "Known risks"),
    ("no_known_risks", "No known risks"),
    ("urgency", "Urgency"),
    ("consent", "The person has agreed to this referral and to their details being shared"),
]
# Where the error summary links for a field: the date input's first box.
LINK_TARGET = {"birth_date": "birth_date-day"}


def dob(day, month, year) -> dict[str, str]:
    """A date of birth as the date input's three boxes send it."""
    return {"birth_date-day": str(day), "birth_date-month": str(month),
            "birth_date-year": str(year)}


# No date boxes: a system posting the one `birth_date` value of the agreed field names.
NO_BOXES = {"birth_date-day": None, "birth_date-month": None, "birth_date-year": None}


def dob_on(day: date) -> dict[str, str]:
    return dob(day.day, day.month, day.year)


CHECK_DIGIT_MESSAGE = (
    "This is not a valid NHS number: its check digit does not match. "
    "Check each digit and enter it again"
)


# --- helpers -----------------------------------------------------------------------


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def spaced(number: str) -> str:
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def referral_for(db, number: str) -> Referral | None:
    return db.session.scalars(
        select(Referral).join(Referral.patient).where(Patient.nhs_number == number)
    ).one_or_none()


def practice_of(db, user) -> Practice:
    return db.session.get(Practice, user.practice_id)


def references(listing) -> list[str]:
    """The references in the list's rows, top to bottom."""
    return [text_of(row.find("td/span[@class='kindly-cell']/a"))
            for row in listing.findall(".//tbody/tr")]


def pager_link(listing, rel: str) -> str | None:
    link = listing.find(f".//a[@rel='{rel}']")
    return link.get("href") if link is not None else None


def timeline(detail) -> list[str]:
    return [text_of(item) for item in detail.findall(".//ol[@class='kindly-timeline']/li")]


def events_of(db, referral_id) -> list[ReferralEvent]:
    return db.session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral_id)
        .order_by(ReferralEvent.id)
    ).all()


def audit_events(db, action, referral_id) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == action,
            AuditEvent.entity_type == "referral",
            AuditEvent.entity_id == referral_id,
        )
    ).all()


# --- the form ------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "label"), FIELDS)
def test_referral_form_has_each_field_with_its_agreed_name_and_label(
    client, referrer, page, field, label
):
    form = page(client.get("/referrals/new"))

    element = form.by_id(field)
    assert element is not None, f"no element with id {field!r}"
    assert element.get("name") == field
    assert label in form.label_for(field)


def test_every_input_on_the_referral_form_has_a_label(client, referrer, page):
    form = page(client.get("/referrals/new"))
    inputs = [
        e
        for e in form.findall(".//form[@method='post']//*[@name]")
        if e.tag in {"input", "textarea", "select"} and e.get("type") != "hidden"
    ]

    assert len(inputs) > len(FIELDS)
    unlabelled = [e.get("id") for e in inputs if not form.label_for(e.get("id"))]
    assert not unlabelled


def test_a_valid_referral_is_stored_and_its_page_shows_the_person_and_timeline(
    client, referrer, valid_form, page, db
):
    data = valid_form()
    number = data["nhs_number"]
    data["nhs_number"] = f"{number[:3]}-{number[3:6]}-{number[6:]}"  # typed with hyphens
    before = count(db, Referral)

    response = client.submit("/referrals/new", data)

    assert response.status_code == 302
    referral = referral_for(db, number)
    assert referral is not None
    assert count(db, Referral) == before + 1
    assert response.location == f"/referrals/{referral.id}/sent"
    assert referral.status is S.RECEIVED
    assert referral.practice_id == referrer.practice_id
    assert referral.referrer_id == referrer.id

    confirmation = page(client.get(response.location))
    assert "Referral sent" in confirmation.text()
    assert referral.reference in confirmation.text()
    detail = page(client.get(f"/referrals/{referral.id}"))
    assert detail.response.status_code == 200
    assert text_of(detail.find(".//h1")) == "Ann Bee"
    assert spaced(number) in detail.text()
    [created] = timeline(detail)
    assert "Received" in created
    assert referrer.name in created


def test_a_referral_without_its_csrf_token_is_refused_and_nothing_is_stored(
    client, referrer, valid_form, db
):
    data = valid_form()
    before = (count(db, Referral), count(db, Patient))

    response = client.post("/referrals/new", data=data)

    assert response.status_code == 400
    assert (count(db, Referral), count(db, Patient)) == before
    assert referral_for(db, data["nhs_number"]) is None


def test_a_referral_with_a_forged_csrf_token_is_refused(client, referrer, valid_form, db):
    data = valid_form(csrf_token="forged")
    before = count(db, Referral)

    response = client.post("/referrals/new", data=data)

    assert response.status_code == 400
    assert count(db, Referral) == before


def _wrong_check_digit(data):
    number = data["nhs_number"]
    return {"nhs_number": spaced(number[:9] + str((int(number[9]) + 1) % 10))}


FIELD_ERRORS = [
    pytest.param(_wrong_check_digit, "nhs_number", "check digit does not match", id="check-digit"),
    pytest.param(lambda d: {"nhs_number": "12345"}, "nhs_number", "10 digits", id="short-nhs"),
    pytest.param(
        lambda d: dob_on(date.today() + timedelta(days=2)),
        "birth_date", "Date of birth must be in the past", id="born-in-future",
    ),
    pytest.param(
        lambda d: dob(1, 1, date.today().year - 121),
        "birth_date", "within the last 120 years", id="born-too-long-ago",
    ),
    pytest.param(
        lambda d: dob(31, 2, 1950), "birth_date", "real date", id="not-a-date"
    ),
    pytest.param(lambda d: {"postcode": "XYZ 123"}, "postcode", "UK postcode", id="postcode"),
    pytest.param(lambda d: {"reasons": None}, "reasons", "at least one reason", id="no-reason"),
    pytest.param(
        lambda d: {"reasons": ["other"]}, "reason_other", "other reason", id="other-undescribed"
    ),
    pytest.param(lambda d: {"consent": None}, "consent", "must agree", id="no-consent"),
    pytest.param(
        lambda d: {"no_known_risks": None}, "risks", "No known risks", id="no-risk-answer"
    ),
    pytest.param(
        lambda d: {"risks": "Dog"}, "risks", "not both", id="risks-and-no-known-risks"
    ),
    pytest.param(lambda d: {"sex": None}, "sex", "Select the person's sex", id="no-sex"),
    pytest.param(
        lambda d: {"preferred_contact": "email"}, "email", "Enter an email address",
        id="email-preferred-but-missing",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), FIELD_ERRORS)
def test_each_broken_rule_is_shown_next_to_its_field_and_linked_from_the_summary(
    client, referrer, valid_form, page, db, change, field, message
):
    data = valid_form()
    data = valid_form(**{**data, **change(data)})
    before = count(db, Referral)

    response = client.submit("/referrals/new", data)

    assert response.status_code == 422
    form = page(response)
    shown = form.error_for(field)
    assert shown is not None, f"no error next to {field}"
    assert message in shown
    target = LINK_TARGET.get(field, field)
    assert form.summary_links().get(f"#{target}") == shown
    assert form.by_id(target) is not None  # the summary link lands on the field
    assert count(db, Referral) == before


def test_a_wrong_nhs_number_gets_the_precise_check_digit_message(
    client, referrer, valid_form, page
):
    data = valid_form()
    response = client.submit("/referrals/new", valid_form(**_wrong_check_digit(data)))

    form = page(response)
    assert form.error_for("nhs_number") == CHECK_DIGIT_MESSAGE
    assert form.summary_links()["#nhs_number"] == CHECK_DIGIT_MESSAGE
    assert form.find(".//title").text.strip().startswith("Error:")


def test_a_failed_submit_keeps_everything_that_was_typed(client, referrer, valid_form, page):
    typed = valid_form(
        given_name="Zoë",
        family_name="O'Brien-Smith",
        **dob(31, 2, 1950),  # the one mistake
        sex="male",
        postcode="kb1 1ab",
        phone="07700 900123",
        email="zoe@example.com",
        preferred_contact="email",
        communication_needs=["large-print", "spoken-interpreter"],
        interpreter_language="Polish",
        reasons=["loneliness", "other"],
        reason_other="Misses the choir",
        what_matters="Singing again\n<b>& friends</b>",
        risks="Dog at home\nSteep stairs",
        no_known_risks=None,
        urgency="urgent",
        consent_given_by="representative",
        consent_method="verbal-phone",
    )

    form = page(client.submit("/referrals/new", typed))

    assert form.response.status_code == 422
    assert form.error_for("birth_date")
    for name in ("nhs_number", "given_name", "family_name", "birth_date-day", "birth_date-month",
                 "birth_date-year", "postcode", "phone",
                 "email", "interpreter_language", "reason_other", "what_matters", "risks"):
        assert form.value_of(name) == typed[name], name
    for name in ("sex", "preferred_contact", "urgency", "consent_given_by", "consent_method"):
        assert form.checked(name) == [typed[name]], name
    assert form.checked("communication_needs") == ["large-print", "spoken-interpreter"]
    assert form.checked("reasons") == ["loneliness", "other"]
    assert form.checked("consent") == ["y"]
    assert form.checked("no_known_risks") == []


def test_a_failed_submit_keeps_no_known_risks_ticked(client, referrer, valid_form, page):
    form = page(client.submit("/referrals/new", valid_form(consent=None)))

    assert form.error_for("consent")
    assert form.checked("no_known_risks") == ["y"]
    assert form.checked("consent") == []


@pytest.mark.parametrize("typed", ["31/03/1950", "31 3 1950", "1950-03-31", "31.03.1950"])
def test_a_system_posting_one_date_of_birth_value_may_write_it_the_usual_ways(
    client, referrer, valid_form, db, typed
):
    data = valid_form(birth_date=typed, **NO_BOXES)

    response = client.submit("/referrals/new", data)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert referral_for(db, data["nhs_number"]).patient.birth_date == date(1950, 3, 31)


def test_a_second_open_referral_for_the_same_person_is_refused_with_a_link_to_the_first(
    client, referrer, make, db, valid_form, page
):
    existing = make.referral(practice_of(db, referrer))
    db.session.commit()
    existing_id, reference = existing.id, existing.reference
    number = existing.patient.nhs_number
    before = count(db, Referral)

    response = client.submit("/referrals/new", valid_form(nhs_number=spaced(number)))

    assert response.status_code == 422
    form = page(response)
    assert reference in form.error_for("nhs_number")
    assert form.summary_links()["#nhs_number"] == form.error_for("nhs_number")
    assert form.links().get(f"View referral {reference}") == f"/referrals/{existing_id}"
    assert count(db, Referral) == before


# --- nothing a user sends is a server error -------------------------------------------

GARBAGE = [
    ("sex", {"sex": "robot"}),
    ("urgency", {"urgency": "yesterday"}),
    ("urgency", {"urgency": ""}),
    ("preferred_contact", {"preferred_contact": "pigeon"}),
    ("consent_method", {"consent_method": "telepathy"}),
    ("consent_given_by", {"consent_given_by": "the cat"}),
    ("reasons", {"reasons": ["boredom"]}),
    ("communication_needs", {"communication_needs": ["smoke signals"]}),
    ("given_name", {"given_name": "A" * 101}),
    ("family_name", {"family_name": "B" * 5000}),
    ("postcode", {"postcode": "X" * 50}),
    ("phone", {"phone": "0" * 31}),
    ("email", {"email": "not-an-email"}),
    ("interpreter_language", {"communication_needs": ["spoken-interpreter"],
                              "interpreter_language": "L" * 61}),
    ("reason_other", {"reasons": ["other"], "reason_other": "R" * 501}),
    ("birth_date", dob(99, 99, 9999)),
    ("birth_date", dob(31, 3, 50)),
    ("birth_date", dob("", 3, 1950)),
    ("birth_date", {"birth_date": "99/99/9999", **NO_BOXES}),  # one value, as systems send
    ("birth_date", {"birth_date": "31/03/50", **NO_BOXES}),
    ("nhs_number", {"nhs_number": "9" * 200}),
    ("nhs_number", {"nhs_number": "９４３４７６５９１９"}),  # full-width digits
]


@pytest.mark.parametrize(("field", "change"), GARBAGE, ids=[f"{f}-{i}" for i, (f, _) in
                                                            enumerate(GARBAGE)])
def test_nonsense_in_any_field_is_a_field_error_not_a_server_error(
    client, referrer, valid_form, page, db, field, change
):
    before = count(db, Referral)

    response = client.submit("/referrals/new", valid_form(**change))

    assert response.status_code == 422
    form = page(response)
    assert form.error_for(field), f"no error shown next to {field}"
    # (A date's link goes to the box the mistake is in: #birth_date-year.)
    assert any(link == f"#{field}" or link.startswith(f"#{field}-")
               for link in form.summary_links())
    assert count(db, Referral) == before


def test_invisible_nul_characters_are_dropped_not_a_server_error(
    client, referrer, valid_form, db
):
    data = valid_form(
        given_name="Ann\x00", what_matters="Walking\x00 group", phone="07700\x00900123"
    )

    response = client.submit("/referrals/new", data)

    assert response.status_code == 302
    referral = referral_for(db, data["nhs_number"])
    assert referral.patient.given_name == "Ann"
    assert referral.what_matters == "Walking group"


@pytest.mark.parametrize(
    "url",
    [
        "/referrals/99999999999999999999",
        "/referrals/2147483648",
    ],
)
def test_an_impossible_referral_number_is_not_found(client, referrer, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "~",
        "2026-01-01T00:00:00+00:00~99999999999999999999",
        "2026-01-01T00:00:00~1",
        "9999-12-31T23:59:59+00:00~1",
    ],
)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_mangled_page_cursor_still_shows_a_list(
    client, referrer, make, db, page, direction, cursor
):
    make.referral(practice_of(db, referrer))
    db.session.commit()

    response = client.get("/referrals", query_string={direction: cursor})

    assert response.status_code == 200
    assert page(response).find(".//h1") is not None


SCRIPT = "<script>alert(1)</script>"


def test_what_people_typed_is_shown_as_text_never_run_as_html(
    client, referrer, make, db, valid_form
):
    referral = make.referral(
        practice_of(db, referrer),
        what_matters=SCRIPT,
        risks=[SCRIPT],
        no_known_risks=False,
        reasons=[ReasonEntry("other", SCRIPT)],
    )
    db.session.commit()

    detail = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    form = client.submit(
        "/referrals/new",
        valid_form(what_matters=SCRIPT, risks=SCRIPT, no_known_risks=None,
                   given_name=SCRIPT, reasons=["other"], reason_other=SCRIPT, consent=None),
    ).get_data(as_text=True)

    for html in (detail, form):
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- the list -------------------------------------------------------------------------


def test_the_list_shows_the_practices_referrals_and_no_one_elses(
    client, referrer, make, db, page
):
    ours = make.referral(practice_of(db, referrer), person={"given_name": "Olive"})
    theirs = make.referral(person={"given_name": "Theodora"})
    db.session.commit()
    ours_ref, theirs_ref = ours.reference, theirs.reference

    listing = page(client.get("/referrals"))

    assert references(listing) == [ours_ref]
    assert "Olive" in listing.text()
    assert "Theodora" not in listing.text()
    assert theirs_ref not in listing.html


def test_the_list_filters_by_status(client, referrer, make, db, page):
    practice = practice_of(db, referrer)
    made = {status: make.referral(practice, status=status).reference
            for status in (S.RECEIVED, S.ACCEPTED, S.CANCELLED)}
    db.session.commit()

    cancelled = references(page(client.get("/referrals?status=cancelled")))
    everything = references(page(client.get("/referrals")))
    nonsense = references(page(client.get("/referrals?status=nonsense")))

    assert cancelled == [made[S.CANCELLED]]
    assert sorted(everything) == sorted(made.values())
    assert sorted(nonsense) == sorted(made.values())


def test_the_list_pages_forward_and_back_without_repeating_or_missing_a_row(
    app, client, referrer, make, db, page, monkeypatch
):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    practice = practice_of(db, referrer)
    made = [make.referral(practice).reference for _ in range(8)]
    db.session.commit()

    forward, url = [], "/referrals"
    while url and len(forward) < 10:
        listing = page(client.get(url))
        forward.append(references(listing))
        url = pager_link(listing, "next")

    assert [len(rows) for rows in forward] == [3, 3, 2]
    assert [ref for rows in forward for ref in rows] == made[::-1]  # newest first, once each

    backward, url = [forward[-1]], pager_link(listing, "prev")
    while url and len(backward) < 10:
        listing = page(client.get(url))
        backward.append(references(listing))
        url = pager_link(listing, "prev")

    assert backward == forward[::-1]
    assert pager_link(listing, "next") is not None  # back on the first page


def test_paging_keeps_the_status_filter(app, client, referrer, make, db, page, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    practice = practice_of(db, referrer)
    cancelled = []
    for _ in range(3):
        cancelled.append(make.referral(practice, status=S.CANCELLED).reference)
        make.referral(practice)
    db.session.commit()

    first = page(client.get("/referrals?status=cancelled"))
    second = page(client.get(pager_link(first, "next")))

    assert references(first) + references(second) == cancelled[::-1]
    assert pager_link(second, "next") is None


def test_the_list_finds_a_referral_by_nhs_number(client, referrer, make, db, page):
    practice = practice_of(db, referrer)
    wanted, _other = make.referral(practice), make.referral(practice)
    db.session.commit()
    wanted_ref, number = wanted.reference, wanted.patient.nhs_number

    found = references(page(client.get("/referrals", query_string={"nhs_number": spaced(number)})))

    assert found == [wanted_ref]


def test_an_invalid_nhs_number_search_shows_an_error_and_no_rows(
    client, referrer, make, db, page
):
    make.referral(practice_of(db, referrer))
    db.session.commit()

    response = client.get("/referrals", query_string={"nhs_number": "12345"})

    assert response.status_code == 200
    listing = page(response)
    assert "10 digits" in listing.error_for("nhs_number")
    assert references(listing) == []


# --- scope --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER])
def test_another_practices_referral_is_not_found_and_never_listed(
    client, login_as, make, db, page, role
):
    theirs = make.referral(person={"given_name": "Theodora"})  # practice A
    db.session.commit()
    their_id, their_ref = theirs.id, theirs.reference
    number = theirs.patient.nhs_number
    login_as(role)  # a new practice, B
    absent = page(client.get("/referrals/2147483647"))

    response = client.get(f"/referrals/{their_id}")

    assert response.status_code == 404
    assert text_of(page(response).find(".//h1")) == text_of(absent.find(".//h1"))
    assert "Theodora" not in response.get_data(as_text=True)
    assert their_ref not in references(page(client.get("/referrals")))
    search = client.get("/referrals", query_string={"nhs_number": number})
    assert references(page(search)) == []
    assert audit_events(db, "read", their_id) == []


def test_a_referrer_cannot_cancel_another_practices_referral(client, login_as, make, db):
    theirs = make.referral()  # practice A
    db.session.commit()
    their_id = theirs.id
    login_as(Role.REFERRER)  # practice B

    response = client.submit(
        f"/referrals/{their_id}/cancel", {"reason": "Not ours"}, page="/referrals"
    )

    assert response.status_code == 404
    assert db.session.get(Referral, their_id).status is S.RECEIVED
    assert len(events_of(db, their_id)) == 1


# --- cancelling -----------------------------------------------------------------------


def test_a_referrer_can_cancel_a_received_referral_giving_a_reason(
    client, referrer, make, db, page
):
    referral = make.referral(practice_of(db, referrer))
    db.session.commit()
    rid = referral.id
    url = f"/referrals/{rid}"
    assert page(client.get(url)).by_id("reason") is not None  # the form is offered

    response = client.submit(f"{url}/cancel", {"reason": "Moved out of the area"}, page=url)

    assert response.status_code == 302
    assert response.location == url
    assert db.session.get(Referral, rid).status is S.CANCELLED
    last = events_of(db, rid)[-1]
    assert (last.from_status, last.to_status) == (S.RECEIVED, S.CANCELLED)
    assert last.reason == "Moved out of the area"
    assert last.actor_id == referrer.id
    detail = page(client.get(url))
    assert "Cancelled" in timeline(detail)[-1]
    assert "Moved out of the area" in timeline(detail)[-1]
    assert detail.by_id("reason") is None  # nothing left to cancel


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_without_a_reason_is_a_field_error(
    client, referrer, make, db, page, reason
):
    referral = make.referral(practice_of(db, referrer))
    db.session.commit()
    rid = referral.id
    url = f"/referrals/{rid}"

    response = client.submit(f"{url}/cancel", {"reason": reason}, page=url)

    assert response.status_code == 422
    form = page(response)
    assert "Give a reason" in form.error_for("reason")
    assert form.summary_links()["#reason"] == form.error_for("reason")
    assert db.session.get(Referral, rid).status is S.RECEIVED
    assert len(events_of(db, rid)) == 1


def test_an_accepted_referral_cannot_be_cancelled_by_the_practice(
    client, referrer, make, db, page
):
    referral = make.referral(practice_of(db, referrer), status=S.ACCEPTED)
    db.session.commit()
    rid = referral.id
    url = f"/referrals/{rid}"
    events_before = len(events_of(db, rid))
    assert page(client.get(url)).by_id("reason") is None  # no cancel form offered

    response = client.submit(f"{url}/cancel", {"reason": "Changed our minds"}, page=url)

    assert response.status_code == 409
    detail = page(response)
    assert "can no longer be cancelled" in detail.text()
    assert "Changed our minds" in detail.text()  # what they typed is kept to copy
    assert db.session.get(Referral, rid).status is S.ACCEPTED
    assert len(events_of(db, rid)) == events_before


def test_a_practice_manager_can_view_but_not_cancel_or_refer(
    client, login_as, make, db, page, valid_form
):
    manager = login_as(Role.MANAGER)
    referral = make.referral(practice_of(db, manager))
    db.session.commit()
    rid, reference = referral.id, referral.reference
    url = f"/referrals/{rid}"

    detail = client.get(url)
    assert detail.status_code == 200
    assert page(detail).by_id("reason") is None
    assert reference in references(page(client.get("/referrals")))

    cancel = client.submit(f"{url}/cancel", {"reason": "Tidying up"}, page=url)
    assert cancel.status_code == 403
    assert db.session.get(Referral, rid).status is S.RECEIVED

    before = count(db, Referral)
    assert client.get("/referrals/new").status_code == 403
    assert client.submit("/referrals/new", valid_form(), page=url).status_code == 403
    assert count(db, Referral) == before


def test_a_nul_character_in_a_cancel_reason_is_dropped(client, referrer, make, db):
    referral = make.referral(practice_of(db, referrer))
    db.session.commit()
    rid = referral.id
    url = f"/referrals/{rid}"

    response = client.submit(f"{url}/cancel", {"reason": "Moved\x00 away"}, page=url)

    assert response.status_code == 302
    assert events_of(db, rid)[-1].reason == "Moved away"


# --- audit ----------------------------------------------------------------------------


def test_every_view_of_a_referral_is_audited_as_a_read(client, referrer, make, db):
    referral = make.referral(practice_of(db, referrer))
    db.session.commit()
    rid, patient_id = referral.id, referral.patient_id

    client.get(f"/referrals/{rid}")
    client.get(f"/referrals/{rid}")

    reads = audit_events(db, "read", rid)
    assert len(reads) == 2
    assert {(e.actor_id, e.patient_id) for e in reads} == {(referrer.id, patient_id)}


def test_making_a_referral_is_audited_as_a_create(client, referrer, valid_form, db):
    data = valid_form()

    client.submit("/referrals/new", data)

    referral = referral_for(db, data["nhs_number"])
    [created] = audit_events(db, "create", referral.id)
    assert created.actor_id == referrer.id
    assert created.patient_id == referral.patient_id


def test_a_refused_referral_is_not_audited_as_created(client, referrer, valid_form, db):
    before = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "create")
    )

    client.submit("/referrals/new", valid_form(consent=None))

    after = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "create")
    )
    assert after == before

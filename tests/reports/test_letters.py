"""The outcome letter's content, read back from the PDF with pdftotext: what a GP needs,
in the order they need it, with the codes for the record, and nothing the person did not
agree to share or that belongs to someone else."""
from __future__ import annotations

import dataclasses
import logging
import re
from datetime import date, timedelta

import pytest

from referrals.caseload import service as casework
from referrals.intake.service import ReasonEntry
from referrals.models import ReferralStatus
from referrals.nhs_number import format_nhs_number
from reports import codes
from reports.date_words import date_range
from reports.letters import (
    CODED_ONLY_NOTICE,
    build_outcome_letter,
    outcome_letter_pdf,
    print_letter,
    render_outcome_letter,
)
from reports.pdf import page_count
from tests.reports.conftest import pdftotext

S = ReferralStatus
REFERRAL_CODE, DECLINED_CODE = "871731000000106", "871711000000103"
UNVERIFIED_CODE = "871691000000100"
SECTIONS = ("The person", "The referral", "What happened", "Outcome measures",
            "How the referral closed", "Codes to record in the GP record", "Yours sincerely")
ACTIONS = "Please review her pain relief: she says it stops her walking far."


def letter(story) -> tuple[str, str, bytes]:
    """The letter's HTML, its text as pdftotext reads it, and the PDF."""
    html = render_outcome_letter(build_outcome_letter(story.referral, now=story.now))
    pdf = print_letter(html)
    return html, pdftotext(pdf), pdf


def flat(text: str) -> str:
    """The text with all whitespace removed, so wrapped lines and columns read through."""
    return re.sub(r"\s+", "", text)


# --- what the letter says ------------------------------------------------------------


def test_the_person_is_identified_with_the_nhs_number_in_3_3_4_form(tell, hub):
    story = tell()
    patient = story.referral.patient

    _, text, _ = letter(story)

    spaced = format_nhs_number(patient.nhs_number)
    assert re.fullmatch(r"999 \d{3} \d{4}", spaced)
    assert f"NHS number: {spaced}" in re.sub(r" {2,}", " ", text)
    assert patient.nhs_number not in text  # never the unbroken ten digits
    for expected in ("Ada Lovelace", "31 March 1950", "LS1 4AP", hub.practice.name,
                     hub.practice.ods_code, story.referral.reference, hub.team.name,
                     "Social prescribing service"):
        assert expected in text


def test_plan_and_requested_actions_comes_before_everything_else(tell):
    story = tell(gp_actions=ACTIONS)

    _, text, _ = letter(story)

    plan = text.index("Plan and requested actions")
    first_after = min(text.index(s) for s in (
        *SECTIONS, "Ada Lovelace", format_nhs_number(story.referral.patient.nhs_number)))
    assert plan < text.index(ACTIONS[:30]) < first_after


def test_with_no_actions_the_plan_says_no_actions_required(tell):
    _, text, _ = letter(tell(gp_actions="  "))

    plan = text.index("Plan and requested actions")
    assert text.index("No actions required") == min(
        text.index(s) for s in ("No actions required", *SECTIONS)) > plan


def test_the_story_counts_contacts_and_names_each_connection_and_its_outcome(tell):
    _, text, _ = letter(tell())
    one_line = re.sub(r"\s+", " ", text)

    assert "5 contacts (4 reached the person)" in one_line
    assert "by phone and face to face" in one_line
    assert "Kindlebury Walking Group (referral): attended" in one_line
    assert "Tuesday Lunch Club (signpost): did not attend" in one_line
    assert "Community Garden (signpost): no capacity" in one_line
    assert "Working note" not in text  # contact notes are the connector's, not the GP's


def test_outcome_measures_show_baseline_follow_up_and_the_change(tell):
    _, text, _ = letter(tell())
    one_line = re.sub(r"\s+", " ", text)

    assert "ONS personal wellbeing (ONS4): baseline" in one_line
    assert "Life satisfaction: 3 → 6, +3 (better) (scale 0 to 10)" in one_line
    assert "Anxiety: 7 → 4, −3 (better)" in one_line  # lower anxiety is better
    assert "UCLA 3-item loneliness scale: baseline" in one_line
    assert "Loneliness (3 to 9): 8 → 4, −4 (better)" in one_line


def test_how_the_referral_closed_and_why(tell):
    _, text, _ = letter(tell())

    assert "Completed on" in text
    assert "Goes to the walking group every week and feels much better." in text


def test_the_connector_signs_with_their_contact_details(tell, hub):
    hub.connector.phone = "01632 960900"
    _, text, _ = letter(tell())

    assert hub.connector.name in text and hub.connector.email in text
    assert "01632 960900" in text


def test_a_letter_before_closing_says_the_referral_is_still_open(tell):
    _, text, _ = letter(tell(S.IN_PROGRESS))

    assert "still open (in progress)" in text
    assert REFERRAL_CODE in text  # the person has taken it up


def test_a_person_without_an_nhs_number_is_shown_as_not_given(tell, db):
    story = tell()
    story.referral.patient.nhs_number = None
    db.session.flush()

    data = build_outcome_letter(story.referral, now=story.now)

    assert data.person.nhs_number == "Not given"


def test_the_letter_data_is_plain_and_frozen(tell):
    story = tell()

    data = build_outcome_letter(story.referral, now=story.now)

    with pytest.raises(dataclasses.FrozenInstanceError):
        data.gp_actions = "changed"
    # No model rows inside: the template cannot reach back into the database.
    assert "sqlalchemy" not in repr(data) and "_sa_instance_state" not in repr(data)


# --- codes for the GP record ---------------------------------------------------------


def test_a_person_who_took_up_the_referral_is_coded_as_referred(tell):
    _, text, _ = letter(tell(S.COMPLETED))

    assert f"SNOMED CT {REFERRAL_CODE} Referral to social prescribing service" in text
    assert DECLINED_CODE not in text and UNVERIFIED_CODE not in text


@pytest.mark.parametrize("after_engaging", [False, True])
def test_a_person_who_declined_is_coded_as_declined(tell, hub, after_engaging):
    if after_engaging:
        story = tell(S.IN_PROGRESS)
        casework.close_referral(story.referral, "declined", actor=hub.connector,
                                note="Did not want to carry on", now=story.now)
    else:
        story = tell(S.DECLINED)

    _, text, _ = letter(story)

    assert f"SNOMED CT {DECLINED_CODE} Social prescribing declined" in text
    assert REFERRAL_CODE not in text and UNVERIFIED_CODE not in text


def test_a_person_who_could_not_be_contacted_gets_no_code(tell):
    _, text, _ = letter(tell(S.UNABLE_TO_CONTACT))

    assert "No code: the person could not be contacted" in text
    assert not re.search(r"\b8716\d+|\b8717\d+", text)


def test_only_verified_codes_exist():
    verified = {REFERRAL_CODE, DECLINED_CODE}
    found = {value.code for value in vars(codes).values() if isinstance(value, codes.Code)}
    assert found == verified
    for status in S:
        for engaged in (False, True):
            given, _ = codes.codes_for(status, engaged=engaged)
            assert {c.code for c in given} <= verified


# --- consent, and nobody else's data -------------------------------------------------

PRIVATE = ("She misses her late husband", "Private closing note", "Private connection note",
           "Private reason detail")


def test_when_the_person_asked_for_coded_information_only_there_is_no_free_text(tell):
    story = tell(coded_only=True, what_matters=PRIVATE[0], closing_note=PRIVATE[1],
                 connection_note=PRIVATE[2], gp_actions=ACTIONS,
                 reasons=[ReasonEntry("loneliness"), ReasonEntry("other", PRIVATE[3])])

    html, text, _ = letter(story)

    for words in PRIVATE:
        assert words not in html and flat(words) not in flat(text)
    assert CODED_ONLY_NOTICE in text
    # What is coded, or the connector's request to the GP, is still there.
    for kept in (ACTIONS[:30], "Loneliness; Other", "Kindlebury Walking Group", "attended",
                 REFERRAL_CODE, format_nhs_number(story.referral.patient.nhs_number),
                 "Life satisfaction"):
        assert kept in re.sub(r"\s+", " ", text)


def test_without_that_request_the_free_text_is_shared(tell):
    story = tell(what_matters=PRIVATE[0], closing_note=PRIVATE[1], connection_note=PRIVATE[2],
                 reasons=[ReasonEntry("other", PRIVATE[3])])

    _, text, _ = letter(story)

    for words in PRIVATE:
        assert flat(words) in flat(text)
    assert CODED_ONLY_NOTICE not in text


def test_the_letter_never_carries_another_persons_data(tell, make, hub):
    other = make.referral(hub.practice, connector=hub.connector, status=S.ACCEPTED,
                          person={"given_name": "Grace", "family_name": "Hopper",
                                  "postcode": "KB2 4HP"},
                          what_matters="Grace's own story")
    casework.close_referral(other, "declined", actor=hub.connector,
                            note="Grace's closing note")
    story = tell()

    html, text, _ = letter(story)

    number = other.patient.nhs_number
    for theirs in ("Grace", "Hopper", "KB2 4HP", number, format_nhs_number(number),
                   other.reference):
        assert theirs not in html and theirs not in text
        assert flat(theirs) not in flat(text)


# --- hostile free text ---------------------------------------------------------------

LONG_WORD = "Supercalifragilistic" * 15  # 300 characters, no break opportunity
ARABIC, HEBREW = "مرحبا بالعالم", "שלום עולם"
HOSTILE = (f'<b>bold?</b> <script>alert("x")</script> <img src="http://127.0.0.1:9/x"> '
           f"{LONG_WORD} {ARABIC} {HEBREW} 😀 & &amp; </p></body>")


def _rtl_visible(text: str, words: str) -> bool:
    """pdftotext may give right-to-left words in visual order: accept either."""
    flat_text = flat(text)
    return all(w in flat_text or w[::-1] in flat_text for w in words.split())


def test_hostile_free_text_is_shown_as_text_and_breaks_nothing(tell, caplog):
    story = tell(what_matters=HOSTILE, closing_note=HOSTILE, gp_actions=HOSTILE,
                 connection_note=HOSTILE)

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        html, text, pdf = letter(story)

    assert "<script>" not in html and "<b>bold?" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert [r.getMessage() for r in caplog.records] == []  # nothing fetched, nothing ignored
    assert page_count(pdf) in (1, 2)
    visible = flat(text)
    assert flat('<script>alert("x")</script>') in visible and "<b>bold?</b>" in visible
    assert visible.count(LONG_WORD) >= 4  # wrapped inside the page, every character there
    assert _rtl_visible(text, ARABIC) and _rtl_visible(text, HEBREW)
    # pdftotext rebuilds the logical order of the right-to-left run imperfectly: it may
    # pull the neutral "&" of "&amp;" into it (the page itself shows "😀 & &amp;").
    assert "😀" in text and "amp;" in text
    assert flat('<img src="http://127.0.0.1:9/x">') in visible
    assert text.index("Plan and requested actions") < text.index("The person")
    for section in SECTIONS:
        assert section in text


# --- one page -------------------------------------------------------------------------


def test_a_typical_story_fits_on_one_page(tell, caplog):
    story = tell(gp_actions=ACTIONS + " Consider a review of her hearing aids.",
                 what_matters="Getting out of the house and meeting people again, as she did "
                              "before her husband died; being able to walk to the shops.")

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = outcome_letter_pdf(story.referral, now=story.now)

    assert page_count(pdf) == 1
    assert pdftotext(pdf).count("\f") == 1
    assert caplog.records == []


# --- issue 14: greeting, waiting time, date ranges, self-referrals, codes -------------


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def verified_codes_shown(text: str) -> set[str]:
    """Every SNOMED CT code the letter asks the practice to file."""
    return set(re.findall(r"SNOMED CT (\d{6,18})", text))


@pytest.mark.parametrize(("start", "end", "words"), [
    (date(2026, 3, 4), date(2026, 3, 19), "4 to 19 March 2026"),
    (date(2026, 2, 28), date(2026, 3, 3), "28 February to 3 March 2026"),
    (date(2025, 12, 30), date(2026, 1, 2), "30 December 2025 to 2 January 2026"),
    (date(2026, 3, 4), date(2026, 3, 4), "4 March 2026"),
    (date(2026, 3, 19), date(2026, 3, 4), "4 to 19 March 2026"),
])
def test_dates_read_as_a_proper_range_or_one_date(start, end, words):
    assert date_range(start, end) == words


def test_the_letter_greets_the_referrer_and_shows_contact_dates_as_a_range(tell, db):
    story = tell()
    story.referral.referrer.name = "Dr Priya Shah"
    db.session.flush()
    first, last = (c.at for c in (story.referral.contacts[0], story.referral.contacts[-1]))

    _, text, _ = letter(story)

    line = one_line(text)
    assert "Dear Dr Shah," in line
    assert line.index("Dear Dr Shah,") < line.index("Plan and requested actions")
    zone_first = build_outcome_letter(story.referral, now=story.now).contacts.first_on
    zone_last = build_outcome_letter(story.referral, now=story.now).contacts.last_on
    assert zone_last - zone_first == (last - first).days * timedelta(days=1)
    assert f"from {date_range(zone_first, zone_last)}, by phone" in line
    assert " Mar " not in line  # dates in full, never "4 Mar 2026"


@pytest.mark.parametrize(("name", "greeting"), [
    ("Nurse Helen Price", "Dear Nurse Price"),
    ("Sandra Lowe", "Dear Sandra Lowe"),  # no title is guessed
    ("", "Dear colleague"),
])
def test_the_greeting_uses_the_referrers_title_and_name_or_says_colleague(
        tell, db, name, greeting):
    story = tell(S.DECLINED)
    referral = story.referral
    referral.referrer, referral.referrer_name = None, name
    db.session.flush()

    assert build_outcome_letter(referral, now=story.now).greeting == greeting


def test_the_wait_to_first_contact_is_in_uk_calendar_days(tell):
    story = tell()  # first reached by phone two days after the referral

    data = build_outcome_letter(story.referral, now=story.now)
    _, text, _ = letter(story)

    reached = data.contacts.first_on + timedelta(days=1)  # the first call was not answered
    assert data.referral.first_contact == (
        f"First contact: 2 days after referral, on {reached.day} {reached:%B %Y}")
    assert flat(data.referral.first_contact) in flat(text)
    assert verified_codes_shown(text) == {REFERRAL_CODE}  # every verified code that applies


def test_a_person_never_reached_has_no_first_contact_and_the_letter_says_so(tell):
    _, text, _ = letter(tell(S.UNABLE_TO_CONTACT))

    assert flat("First contact: none, the person was not reached (3 attempts)") in flat(text)
    assert verified_codes_shown(text) == set()  # no verified code says "not contacted"
    assert UNVERIFIED_CODE not in flat(text)


def test_a_self_referral_without_an_nhs_number_has_no_nhs_number_line(tell, db):
    story = tell(S.DECLINED)
    referral = story.referral
    referral.source, referral.referrer = "self", None
    referral.patient.nhs_number = None
    db.session.flush()

    _, text, _ = letter(story)

    assert "NHS number" not in text and "Not given" not in text
    assert flat(f"Dear colleagues at {referral.practice.name},") in flat(text)
    assert flat("Referred by: Self-referral") in flat(text)
    assert verified_codes_shown(text) == {DECLINED_CODE}
    assert UNVERIFIED_CODE not in flat(text)


def test_coded_only_letters_keep_the_new_lines_free_of_free_text(tell):
    story = tell(coded_only=True, what_matters=PRIVATE[0], closing_note=PRIVATE[1])

    _, text, _ = letter(story)

    assert flat("First contact: 2 days after referral") in flat(text)
    for words in PRIVATE[:2]:
        assert flat(words) not in flat(text)

"""The outcome measure pages: who may see and record, the form, its errors, the change."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.models import Measurement, ReferralStatus, Role, Timepoint
from referrals.outcomes.service import record_measurement
from tests.referrals.intake.conftest import Page
from tests.referrals.outcomes.conftest import SWEMWBS_ITEMS, local_today


def sign_in(client, db, user, password="correct horse battery"):
    db.session.commit()
    response = client.submit("/login", {"email": user.email, "password": password})
    assert response.status_code == 302
    return user


def measures_url(referral) -> str:
    return f"/caseload/referrals/{referral.id}/measures"


def record_url(referral, code="ons4") -> str:
    return f"{measures_url(referral)}/new?instrument={code}"


def ons4_form(**overrides):
    today = local_today()
    data = {
        "timepoint": "baseline", "mode": "assisted",
        "completed_on_day": str(today.day), "completed_on_month": str(today.month),
        "completed_on_year": str(today.year),
        "item_life_satisfaction": "4", "item_worthwhile": "5", "item_happy": "skipped",
        "item_anxious": "8",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def baseline_and_follow_up(hub):
    now = local_today()
    record_measurement(hub.referral, "ons4", timepoint=Timepoint.BASELINE, mode="self",
                       completed_on=now, actor=hub.connector,
                       answers={"life_satisfaction": 3, "worthwhile": 4, "happy": 5,
                                "anxious": 9})
    record_measurement(hub.referral, "ons4", timepoint=Timepoint.FOLLOW_UP, mode="self",
                       completed_on=now, actor=hub.connector,
                       answers={"life_satisfaction": 7, "worthwhile": 4, "happy": 5,
                                "anxious": 2})


# --- recording ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["connector", "coordinator"])
def test_the_connector_holding_it_or_a_coordinator_records_a_measure(client, db, hub, who):
    sign_in(client, db, getattr(hub, who))

    response = client.submit(record_url(hub.referral), ons4_form())

    assert response.status_code == 302
    assert response.location.endswith(measures_url(hub.referral))
    stored = db.session.scalars(select(Measurement)).one()
    assert stored.answers == {"life_satisfaction": 4, "worthwhile": 5, "happy": None,
                              "anxious": 8}
    assert stored.timepoint is Timepoint.BASELINE and stored.recorded_by == getattr(hub, who)
    assert "ONS4 recorded" in client.get(response.location).get_data(as_text=True)


def test_the_form_has_a_radios_group_per_item_with_skipped(client, db, hub):
    sign_in(client, db, hub.connector)

    page = Page(client.get(record_url(hub.referral)))

    assert page.response.status_code == 200
    assert page.label_for("item_life_satisfaction") == [
        "0 (not at all)", "1. Overall, how satisfied are you with your life nowadays?"]
    values = [e.get("value") for e in page.findall(".//input[@name='item_anxious']")]
    assert values == [str(v) for v in range(11)] + ["skipped"]
    assert page.label_for("item_anxious-12")[0] == "Skipped"
    assert page.checked("timepoint") == ["baseline"]
    assert page.value_of("completed_on_day") == str(local_today().day)
    # Eleven points and Skipped sit in one compact row.
    radios = page.parents[page.parents[page.by_id("item_happy")]]
    assert "nhsuk-radios--inline" in radios.get("class")


def test_the_form_offers_follow_up_once_there_is_a_baseline(client, db, hub):
    record_measurement(hub.referral, "ons4", timepoint=Timepoint.BASELINE, mode="self",
                       completed_on=local_today(), actor=hub.connector,
                       answers=dict.fromkeys(["life_satisfaction", "worthwhile", "happy",
                                              "anxious"], 5))
    sign_in(client, db, hub.connector)

    assert Page(client.get(record_url(hub.referral))).checked("timepoint") == ["follow-up"]


def test_errors_are_shown_next_to_their_fields_and_nothing_is_saved(client, db, hub):
    sign_in(client, db, hub.connector)
    tomorrow = local_today() + timedelta(days=1)

    response = client.submit(record_url(hub.referral), ons4_form(
        item_worthwhile=None, item_anxious="11", mode=None,
        completed_on_day=str(tomorrow.day), completed_on_month=str(tomorrow.month),
        completed_on_year=str(tomorrow.year)))

    page = Page(response)
    assert response.status_code == 422
    assert page.error_for("item_worthwhile") == "Answer question 2, or select Skipped"
    assert page.error_for("item_anxious") == (
        "Answer question 4 from 0 to 10, or select Skipped")
    assert page.error_for("mode") == "Select how it was completed"
    assert page.error_for("completed_on") == "The date cannot be in the future"
    assert page.summary_links()["#item_worthwhile"] == "Answer question 2, or select Skipped"
    assert "#completed_on_day" in page.summary_links()
    # What was chosen stays chosen.
    assert page.checked("item_life_satisfaction") == ["4"]
    assert page.checked("item_happy") == ["skipped"]
    assert page.find(".//title").text.startswith("Error:")
    assert db.session.scalars(select(Measurement)).first() is None


def test_a_second_baseline_is_refused_on_the_form(client, db, hub):
    sign_in(client, db, hub.connector)
    client.submit(record_url(hub.referral), ons4_form())

    page = Page(client.submit(record_url(hub.referral), ons4_form()))

    assert page.response.status_code == 422
    assert page.error_for("timepoint").startswith("A baseline for ONS4 is already recorded on")


@pytest.mark.parametrize("garbage", [
    {"item_happy": "<script>alert(1)</script>"},
    {"item_happy": "9" * 5000},
    {"timepoint": "yesterday", "mode": "\x00"},
    {"completed_on_day": "31", "completed_on_month": "2"},
    {"completed_on_day": "x", "completed_on_month": "99999", "completed_on_year": "-1"},
    {"completed_on_year": "26"},
])
def test_garbage_gets_a_form_error_never_a_500(client, db, hub, garbage):
    sign_in(client, db, hub.connector)

    response = client.submit(record_url(hub.referral), ons4_form(**garbage))

    assert response.status_code == 422
    assert "<script>alert" not in response.get_data(as_text=True)


def test_two_answers_for_one_question_take_the_first(client, db, hub):
    sign_in(client, db, hub.connector)

    response = client.submit(record_url(hub.referral),
                             ons4_form(item_life_satisfaction=["1", "2"]))

    assert response.status_code == 302
    assert db.session.scalars(select(Measurement)).one().answers["life_satisfaction"] == 1


@pytest.mark.parametrize("query", ["?instrument=nope", "?instrument=", "",
                                   "?instrument=%00", "?instrument=ons4&instrument=x"])
def test_an_unknown_instrument_is_not_found(client, db, hub, query):
    sign_in(client, db, hub.connector)

    response = client.get(f"{measures_url(hub.referral)}/new{query}")

    assert response.status_code in (200, 404)
    if "ons4" not in query:
        assert response.status_code == 404


def test_an_unconfigured_instrument_cannot_be_recorded(client, db, hub):
    sign_in(client, db, hub.connector)

    response = client.get(record_url(hub.referral, "swemwbs"), follow_redirects=True)

    assert response.request.path == measures_url(hub.referral)
    assert "SWEMWBS cannot be recorded: it is not configured" in response.get_data(as_text=True)


def test_a_configured_licensed_instrument_is_recorded_with_its_wording(client, db, hub,
                                                                       licensed):
    sign_in(client, db, hub.connector)

    page = Page(client.get(record_url(hub.referral, "swemwbs")))
    form = ons4_form() | {f"item_{item}": "3" for item in SWEMWBS_ITEMS}
    response = client.submit(record_url(hub.referral, "swemwbs"), form)

    assert "Placeholder question 1" in page.text()
    assert response.status_code == 302
    assert db.session.scalars(select(Measurement)).one().scores == {"raw": 21, "metric": 19.25}


def test_a_colleague_cannot_see_it_and_a_queued_referral_cannot_be_recorded(client, db,
                                                                            make, hub):
    queued = make.referral(hub.practice)
    sign_in(client, db, hub.colleague)

    assert client.get(measures_url(hub.referral)).status_code == 404
    assert client.get(record_url(hub.referral)).status_code == 404
    response = client.submit(record_url(queued), ons4_form(), page=measures_url(queued))
    assert response.status_code == 302 and response.location.endswith(measures_url(queued))
    assert db.session.scalars(select(Measurement)).first() is None


def test_a_closed_referral_shows_its_measures_but_takes_no_more(client, db, make, hub):
    closed = make.referral(hub.practice, status=ReferralStatus.COMPLETED,
                           connector=hub.connector)
    sign_in(client, db, hub.connector)

    page = Page(client.get(measures_url(closed)))

    assert page.response.status_code == 200
    assert "Record a measure" in page.text() and "Save" not in page.text()
    assert not any("instrument=" in href for href in page.links().values())


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.ADMIN])
def test_practice_staff_and_admins_cannot_use_the_measure_pages(client, db, make, hub, role):
    user = make.user(role, practice=hub.practice) if role is not Role.ADMIN else make.user(role)
    sign_in(client, db, user)

    assert client.get(measures_url(hub.referral)).status_code == 403
    assert client.get(record_url(hub.referral)).status_code == 403
    own_page = "/admin/users" if role is Role.ADMIN else "/referrals"
    assert client.submit(record_url(hub.referral), ons4_form(),
                         page=own_page).status_code == 403


def test_another_teams_connector_gets_not_found(client, db, make, hub):
    sign_in(client, db, make.user(Role.CONNECTOR))

    assert client.get(measures_url(hub.referral)).status_code == 404


# --- the measures page and the change summary ------------------------------------------


def test_the_measures_page_lists_measurements_change_and_instruments(client, db, hub):
    baseline_and_follow_up(hub)
    sign_in(client, db, hub.connector)

    page = Page(client.get(measures_url(hub.referral)))

    text = page.text()
    assert "ONS4: baseline" in text
    assert "Life satisfaction 3 7 Follow-up +4 Better" in text
    assert "Anxiety Lower is better 9 2 Follow-up −7 Better" in text
    assert "Worthwhile 4 4 Follow-up 0 No change" in text
    links = page.links()
    assert links["ONS personal wellbeing (ONS4)"] == record_url(hub.referral)
    assert "Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS) Not configured" in text
    assert not any("instrument=swemwbs" in href for href in links.values())


def test_the_workspace_links_to_its_measures_section(client, db, hub):
    baseline_and_follow_up(hub)
    sign_in(client, db, hub.connector)

    page = Page(client.get(f"/caseload/referrals/{hub.referral.id}"))

    assert page.links()["Outcome measures"] == measures_url(hub.referral)
    measures = Page(client.get(measures_url(hub.referral)))
    assert "Life satisfaction 3 7 Follow-up +4 Better" in measures.text()
    current = measures.find(".//a[@aria-current='page']")
    assert current is not None and current.get("href") == measures_url(hub.referral)


def test_the_practice_sees_the_change_read_only(client, db, hub, make):
    baseline_and_follow_up(hub)
    sign_in(client, db, make.user(Role.MANAGER, practice=hub.practice))

    page = Page(client.get(f"/referrals/{hub.referral.id}"))

    assert "Anxiety Lower is better 9 2 Follow-up −7 Better" in page.text()
    assert not any("/measures" in href for href in page.links().values())


def test_another_practice_does_not_see_the_referral(client, db, hub, make):
    baseline_and_follow_up(hub)
    sign_in(client, db, make.user(Role.REFERRER))

    assert client.get(f"/referrals/{hub.referral.id}").status_code == 404


def test_the_workspace_without_measures_says_so(client, db, hub):
    sign_in(client, db, hub.connector)

    assert "No baseline recorded yet." in Page(client.get(measures_url(hub.referral))).text()

"""The connector records the person's ethnic group on their record from the workspace:
optional, "Prefer not to say" as Z, through the referral's versions, audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals import revisions
from referrals.caseload import person
from referrals.errors import CaseworkInvalid, NotPermitted, StaleReferral
from referrals.models import AuditEvent, ReferralChange, ReferralStatus, Role
from tests.referrals.caseload.test_views import sign_in, workspace_url

S = ReferralStatus


@pytest.fixture
def held(make, hub):
    return make.referral(hub.practice, connector=hub.connector, status=S.ACCEPTED)


def record(referral, actor, code, version=None):
    person.record_ethnic_category(referral, actor=actor, code=code,
                                  expected_version=referral.version if version is None
                                  else version)


# --- the service -----------------------------------------------------------------------


def test_the_connector_holding_it_records_the_answer_audited_and_versioned(db, held, hub):
    version = held.version
    record(held, hub.connector, "J")
    assert held.patient.ethnic_category == "J" and held.version == version + 1
    change = db.session.scalars(select(ReferralChange).where(
        ReferralChange.referral_id == held.id, ReferralChange.version == held.version)).one()
    assert change.summary == "Ethnic group recorded"  # the code stays out of the change log
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "record-ethnic-category")).one()
    assert (event.actor_id, event.patient_id, event.detail["referral_id"]) == (
        hub.connector.id, held.patient_id, held.id)


def test_prefer_not_to_say_is_stored_as_z(held, hub):
    record(held, hub.coordinator, "Z")
    assert held.patient.ethnic_category == "Z"


@pytest.mark.parametrize(("code", "message"), [
    ("", "Select their ethnic group, or prefer not to say"),
    ("99", "Unknown ethnic category '99': choose one from the list"),
    ("Q", "Unknown ethnic category 'Q': choose one from the list"),
])
def test_no_answer_or_an_unknown_code_is_refused(held, hub, code, message):
    held.patient.ethnic_category = "B"
    with pytest.raises(CaseworkInvalid) as caught:
        record(held, hub.connector, code)
    assert caught.value.errors == {"ethnic_category": message}
    assert held.patient.ethnic_category == "B"


@pytest.mark.parametrize("who", ["colleague", "other_team_connector"])
def test_nobody_else_may(held, hub, who):
    with pytest.raises(NotPermitted):
        record(held, getattr(hub, who), "A")
    assert held.patient.ethnic_category == "99"


def test_not_from_the_queue_nor_once_closed(make, hub):
    queued = make.referral(hub.practice)
    closed = make.referral(hub.practice, connector=hub.connector, status=S.DECLINED)
    for referral in (queued, closed):
        with pytest.raises(NotPermitted):
            record(referral, hub.connector, "A")


def test_a_stale_page_is_refused(held, hub):
    with pytest.raises(StaleReferral):
        record(held, hub.connector, "A", version=held.version - 1)
    assert held.patient.ethnic_category == "99"


# --- the workspace ------------------------------------------------------------------------


def test_the_workspace_shows_it_and_offers_the_form(client, db, held, hub, page):
    held.patient.ethnic_category = "F"
    sign_in(client, db, hub.connector)
    summary = page(client.get(workspace_url(held)))
    assert "Ethnic group Mixed or multiple ethnic groups: White and Asian" in summary.text()
    assert summary.links()["Record or change their ethnic group for Ada Lovelace"] == (
        f"{workspace_url(held)}/ethnic-category")
    shown = page(client.get(f"{workspace_url(held)}/ethnic-category"))
    assert shown.checked("ethnic_category") == ["F"]
    assert "Ethnic group" in shown.label_for("ethnic_category")


def test_never_asked_shows_as_not_asked_with_nothing_chosen(client, db, held, hub, page):
    sign_in(client, db, hub.connector)
    assert "Ethnic group Not asked" in page(client.get(workspace_url(held))).text()
    shown = page(client.get(f"{workspace_url(held)}/ethnic-category"))
    assert shown.checked("ethnic_category") == []


def test_saving_it_from_the_workspace_posts_then_redirects(client, db, held, hub, page):
    sign_in(client, db, hub.connector)
    response = client.submit(f"{workspace_url(held)}/ethnic-category",
                             {"ethnic_category": "Z", "version": str(held.version)},
                             page=workspace_url(held))
    assert response.status_code == 302
    assert response.location.endswith(f"{workspace_url(held)}#ethnic-group")
    db.session.refresh(held.patient)
    assert held.patient.ethnic_category == "Z"
    assert "Ethnic group Prefer not to say" in page(client.get(workspace_url(held))).text()


def test_an_unknown_code_shows_its_error_next_to_the_field(client, db, held, hub, page):
    sign_in(client, db, hub.connector)
    response = client.submit(f"{workspace_url(held)}/ethnic-category",
                             {"ethnic_category": "X", "version": str(held.version)},
                             page=workspace_url(held))
    assert response.status_code == 422
    shown = page(response)
    assert shown.error_for("ethnic_category") == (
        "Unknown ethnic category 'X': choose one from the list")
    assert shown.summary_links()["#ethnic_category"] == shown.error_for("ethnic_category")


def test_it_needs_the_csrf_token(client, db, held, hub):
    sign_in(client, db, hub.connector)
    response = client.post(f"{workspace_url(held)}/ethnic-category",
                           data={"ethnic_category": "A", "version": str(held.version)})
    assert response.status_code in (400, 422)
    db.session.refresh(held.patient)
    assert held.patient.ethnic_category == "99"


def test_a_referrer_cannot(client, db, held, hub, login_as):
    login_as(Role.REFERRER, practice=hub.practice)
    response = client.submit(f"{workspace_url(held)}/ethnic-category",
                             {"ethnic_category": "A", "version": str(held.version)},
                             page=f"/referrals/{held.id}")
    assert response.status_code == 403
    db.session.refresh(held.patient)
    assert held.patient.ethnic_category == "99"


def test_someone_elses_change_first_keeps_what_was_chosen(client, db, held, hub, page):
    sign_in(client, db, hub.connector)
    seen = held.version
    held.what_matters = "Singing"
    revisions.touch(held, "What matters changed", actor=hub.coordinator)
    db.session.commit()
    response = client.submit(f"{workspace_url(held)}/ethnic-category",
                             {"ethnic_category": "C", "version": str(seen)},
                             page=workspace_url(held))
    assert response.status_code == 409
    shown = page(response)
    assert "Someone else changed this referral" in shown.text()
    assert shown.checked("ethnic_category") == ["C"]
    db.session.refresh(held.patient)
    assert held.patient.ethnic_category == "99"

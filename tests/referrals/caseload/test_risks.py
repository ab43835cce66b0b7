"""Risks not stated by the referrer (a UK Core GP system, a self-referral): the connector
holding the referral, or the team's coordinator, records them against the version they saw."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals.caseload import service
from referrals.errors import CaseworkInvalid, IntakeInvalid, NotPermitted, StaleReferral
from referrals.intake.service import create_referral
from referrals.models import AuditEvent, ReferralStatus, Role
from tests.referrals.caseload.test_views import sign_in, workspace_url

S = ReferralStatus
WARNING = "Confirm the risks with the referrer before a home visit"


@pytest.fixture
def unstated(make, hub):
    """An accepted referral from a GP system that said nothing about risks."""
    return make.referral(hub.practice, connector=hub.connector, status=S.ACCEPTED,
                         no_known_risks=False, source="fhir")


def record(referral, actor, *, risks=("Lives alone",), no_known_risks=False, version=None):
    service.record_risks(referral, actor=actor, risks=list(risks), no_known_risks=no_known_risks,
                         expected_version=referral.version if version is None else version)


# --- the service ---------------------------------------------------------------------------


def test_referrals_from_a_gp_system_or_a_person_may_leave_risks_unstated(make, hub):
    for source in ("fhir", "self"):
        referral = make.referral(hub.practice, no_known_risks=False, source=source)
        assert not referral.risks_stated


def test_the_practice_form_still_requires_risks(make, hub):
    with pytest.raises(IntakeInvalid) as caught:
        create_referral(make.intake(hub.practice, no_known_risks=False, source="form"),
                        actor=None)
    assert caught.value.errors["risks"] == "List any known risks, or tick 'No known risks'"


def test_the_connector_holding_it_records_the_risks(db, unstated, hub):
    version = unstated.version
    record(unstated, hub.connector, risks=[" Lives alone ", "", "Dog"])
    assert (unstated.risks, unstated.no_known_risks) == (["Lives alone", "Dog"], False)
    assert unstated.risks_stated and unstated.version == version + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "record-risks")).one()
    assert (event.actor_id, event.entity_id, event.patient_id) == (
        hub.connector.id, unstated.id, unstated.patient_id)


def test_a_coordinator_of_the_team_may_record_no_known_risks(unstated, hub):
    record(unstated, hub.coordinator, risks=[], no_known_risks=True)
    assert unstated.no_known_risks and unstated.risks == [] and unstated.risks_stated


def test_a_received_referral_routed_to_the_connector_may_have_its_risks_recorded(make, hub):
    referral = make.referral(hub.practice, connector=hub.connector, no_known_risks=False,
                             source="fhir")
    record(referral, hub.connector)
    assert referral.risks_stated


@pytest.mark.parametrize("who", ["colleague", "other_team_connector"])
def test_anyone_else_may_not(unstated, hub, who):
    with pytest.raises(NotPermitted):
        record(unstated, getattr(hub, who))
    assert not unstated.risks_stated


def test_not_once_the_referral_has_closed(make, hub):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.DECLINED,
                             no_known_risks=False, source="fhir")
    with pytest.raises(NotPermitted):
        record(referral, hub.connector)


@pytest.mark.parametrize("risks, none, message", [
    ([], False, "List any known risks, or tick 'No known risks'"),
    (["  ", ""], False, "List any known risks, or tick 'No known risks'"),
    (["Dog"], True, "Either list the known risks or tick 'No known risks', not both"),
    (["a" * 4001], False, "Known risks must be 4000 characters or fewer"),
    (["a" * 2000, "b" * 2000], False, "Known risks must be 4000 characters or fewer"),
])
def test_an_unclear_answer_is_refused_and_changes_nothing(unstated, hub, risks, none, message):
    version = unstated.version
    with pytest.raises(CaseworkInvalid) as caught:
        record(unstated, hub.connector, risks=risks, no_known_risks=none)
    assert caught.value.errors == {"risks": message}
    assert (unstated.risks_stated, unstated.version) == (False, version)


@pytest.mark.parametrize("stale", [lambda v: v - 1, lambda v: v + 1])
def test_a_stale_version_is_refused(unstated, hub, stale):
    version = unstated.version
    with pytest.raises(StaleReferral):
        service.record_risks(unstated, actor=hub.connector, risks=["Dog"], no_known_risks=False,
                             expected_version=stale(version))
    assert (unstated.risks_stated, unstated.version) == (False, version)


def test_risks_once_stated_are_not_recorded_again(unstated, hub):
    record(unstated, hub.connector)
    with pytest.raises(CaseworkInvalid) as caught:
        record(unstated, hub.coordinator, risks=["Something else"])
    assert caught.value.errors == {"risks": "The risks have already been recorded"}
    assert unstated.risks == ["Lives alone"]


# --- the workspace ---------------------------------------------------------------------------


def test_the_workspace_warns_and_offers_the_form(client, db, unstated, hub, page):
    sign_in(client, db, hub.connector)
    summary = page(client.get(workspace_url(unstated)))
    assert WARNING in summary.text()
    assert "Known risks Not stated" in summary.text()
    assert summary.links()["Record the risks"] == (
        f"{workspace_url(unstated)}/sharing-and-risks#record-risks")
    shown = page(client.get(f"{workspace_url(unstated)}/sharing-and-risks"))
    assert WARNING in shown.text()
    assert shown.by_id("record-risks") is not None
    assert shown.label_for("risks") == ["Known risks"]
    assert shown.value_of("version") == str(unstated.version)


def test_the_connector_it_was_moved_from_cannot_record_them(client, db, unstated, hub, page):
    unstated.connector = hub.colleague
    sign_in(client, db, hub.connector)
    assert client.get(workspace_url(unstated)).status_code == 404  # not theirs to see
    response = client.submit(f"{workspace_url(unstated)}/risks",
                             {"risks": "Dog", "version": str(unstated.version)},
                             page="/caseload")
    assert response.status_code == 404
    db.session.refresh(unstated)
    assert not unstated.risks_stated


def test_a_coordinator_records_them_from_the_workspace(client, db, unstated, hub, page):
    sign_in(client, db, hub.coordinator)
    response = client.submit(f"{workspace_url(unstated)}/risks",
                             {"no_known_risks": "y", "version": str(unstated.version)},
                             page=workspace_url(unstated))
    assert response.status_code == 302
    assert response.location.endswith(f"{workspace_url(unstated)}/sharing-and-risks#visit-risks")
    db.session.refresh(unstated)
    assert unstated.no_known_risks
    shown = page(client.get(workspace_url(unstated)))
    assert WARNING not in shown.text() and "No known risks" in shown.text()


def test_an_unclear_answer_shows_its_error_next_to_the_field(client, db, unstated, hub, page):
    sign_in(client, db, hub.connector)
    response = client.submit(f"{workspace_url(unstated)}/risks",
                             {"risks": "Dog", "no_known_risks": "y",
                              "version": str(unstated.version)},
                             page=workspace_url(unstated))
    assert response.status_code == 422
    shown = page(response)
    assert shown.error_for("risks") == (
        "Either list the known risks or tick 'No known risks', not both")
    assert shown.summary_links() == {"#risks": shown.error_for("risks")}
    assert shown.value_of("risks").strip() == "Dog"


def test_someone_elses_change_first_keeps_what_was_typed_and_says_so(client, db, unstated, hub,
                                                                     page):
    sign_in(client, db, hub.connector)
    seen = unstated.version
    record(unstated, hub.coordinator, risks=["Steep steps"])  # the coordinator got there first
    db.session.commit()
    response = client.submit(f"{workspace_url(unstated)}/risks",
                             {"risks": "Dog in the house", "version": str(seen)},
                             page=workspace_url(unstated))
    assert response.status_code == 409
    shown = page(response)
    assert "Someone else changed this referral" in shown.text()
    assert "Known risks recorded" in shown.text()  # what changed
    assert "Steep steps" in shown.text()  # as it stands now
    assert "Dog in the house" in shown.text()  # what they typed, to copy
    assert shown.by_id("record-risks") is None  # no form to send again: they are stated
    db.session.refresh(unstated)
    assert unstated.risks == ["Steep steps"]


def test_a_self_referral_shows_not_stated_and_its_own_warning(client, db, make, hub, page):
    referral = make.referral(hub.practice, connector=hub.connector, no_known_risks=False,
                             source="self")
    sign_in(client, db, hub.connector)
    shown = page(client.get(workspace_url(referral))).text()
    assert "Known risks Not stated" in shown
    assert "referred themselves" in shown


def test_the_practice_sees_not_stated(client, db, unstated, hub, page, login_as):
    referrer = login_as(Role.REFERRER, practice=hub.practice)
    assert referrer.practice_id == unstated.practice_id
    shown = page(client.get(f"/referrals/{unstated.id}")).text()
    assert "Known risks Not stated" in shown

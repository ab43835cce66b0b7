"""Partner organisations close the loop: the connector records what the person agreed to
share at a warm handover; the partner sees only that, answers it (taken on, no capacity
until a date, attended, did not attend) through the one connection service; the
connector's workspace and the FHIR API show the answer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fhir_adapters import procedure
from referrals.errors import CaseworkInvalid, NotPermitted, StaleConnection
from referrals.matching import service as matching
from referrals.models import (
    AuditEvent,
    CapacityStatus,
    ConnectionKind,
    ConnectionStatus,
    ReferralStatus,
    Role,
)
from referrals.partners import service
from tests.referrals.caseload import conftest as casework
from tests.referrals.matching.test_connections import TODAY, Offers, offers  # noqa: F401

hub = casework.hub
C = ConnectionStatus
REFERRAL = ConnectionKind.REFERRAL
SHARED = matching.Handover(share=True, contact="07700 900456, evenings",
                           note="Ada is nervous of groups: meet her at the door")


@pytest.fixture
def referral(make, hub):
    return make.referral(hub.practice, connector=hub.connector, status=ReferralStatus.IN_PROGRESS,
                         person={"given_name": "Ada", "family_name": "Lovelace"})


@pytest.fixture
def offer(offers):  # noqa: F811
    return offers("Kindlebury Befrienders")


@pytest.fixture
def partner(make, offer):
    return make.user(Role.PARTNER, organisation=offer.organisation, name="Bev Collins")


def handover(referral, offer, hub, handover=SHARED, kind=REFERRAL):
    return matching.record_connection(referral, offer, kind=kind, handover=handover,
                                      actor=hub.connector, today=TODAY)


def answer(connection, partner, status, **kwargs):
    kwargs.setdefault("on", TODAY)
    return service.answer_handover(connection, answer=status, actor=partner, today=TODAY,
                                   **kwargs)


# --- consent at handover -------------------------------------------------------------


def test_the_connector_records_what_the_person_agreed_to_share(db, hub, referral, offer):
    connection = handover(referral, offer, hub)
    assert connection.share_with_partner is True
    assert connection.partner_contact == "07700 900456, evenings"
    assert connection.handover_note.startswith("Ada is nervous")
    assert connection.shared_at is not None


@pytest.mark.parametrize(("kind", "given", "field"), [
    (REFERRAL, matching.Handover(share=True, contact=" "), "contact"),
    (ConnectionKind.SIGNPOST, SHARED, "share"),
    (REFERRAL, matching.Handover(share=False, contact="07700 900456"), "share"),
])
def test_consent_to_share_is_checked(db, hub, referral, offer, kind, given, field):
    with pytest.raises(CaseworkInvalid) as refused:
        handover(referral, offer, hub, handover=given, kind=kind)
    assert field in refused.value.errors


# --- what the partner sees -----------------------------------------------------------


def test_a_partner_sees_only_the_consented_details_of_their_handovers(
        db, hub, referral, offer, partner):
    handover(referral, offer, hub)
    [seen] = service.handovers_for(partner)
    assert (seen.first_name, seen.contact) == ("Ada", "07700 900456, evenings")
    assert seen.note.startswith("Ada is nervous")
    assert "Lovelace" not in repr(seen) and referral.patient.nhs_number not in repr(seen)


def test_without_consent_the_partner_sees_only_that_a_handover_exists(
        db, hub, referral, offer, partner):
    handover(referral, offer, hub, handover=matching.Handover())
    [seen] = service.handovers_for(partner)
    assert seen.shared is False
    assert (seen.first_name, seen.contact, seen.note) == ("", "", "")


def test_signposts_and_other_organisations_handovers_are_not_listed(
        db, make, hub, referral, offer, offers, partner):  # noqa: F811
    other = offers("Choir")
    matching.record_connection(referral, other, kind=REFERRAL, actor=hub.connector,
                               today=TODAY)
    signposted = make.referral(hub.practice, connector=hub.connector,
                               status=ReferralStatus.IN_PROGRESS)
    matching.record_connection(signposted, offer, kind=ConnectionKind.SIGNPOST,
                               actor=hub.connector, today=TODAY)
    assert service.handovers_for(partner) == []


def test_every_person_a_partner_reads_is_audited(db, hub, referral, offer, partner):
    handover(referral, offer, hub)
    service.handovers_for(partner)
    reads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == partner.id, AuditEvent.action == "read")).all()
    assert [(r.patient_id, r.detail["view"]) for r in reads] == [
        (referral.patient_id, "partner-handovers")]


def test_open_and_answered_filters(db, hub, referral, offer, partner):
    connection = handover(referral, offer, hub)
    assert [h.id for h in service.handovers_for(partner, which="open")] == [connection.id]
    answer(connection, partner, C.TAKEN_ON)
    answer(connection, partner, C.ATTENDED)
    assert service.handovers_for(partner, which="open") == []
    assert [h.id for h in service.handovers_for(partner, which="answered")] == [connection.id]


# --- answers -------------------------------------------------------------------------


def test_taken_on_then_attended_moves_the_connection_as_events_by_the_partner(
        db, hub, referral, offer, partner):
    connection = handover(referral, offer, hub)
    answer(connection, partner, C.TAKEN_ON, note="Starting Tuesday")
    answer(connection, partner, C.ATTENDED)
    assert connection.status is C.ATTENDED and connection.started_on == TODAY
    assert [(e.to_status, e.actor_id) for e in connection.events[1:]] == [
        (C.TAKEN_ON, partner.id), (C.ATTENDED, partner.id)]
    # The connector's workspace reads the same connection: the answer is there at once.
    assert matching.next_statuses(connection) == []


def test_no_capacity_needs_a_future_date_and_marks_the_offer_full_until_then(
        db, hub, referral, offer, partner):
    connection = handover(referral, offer, hub)
    with pytest.raises(CaseworkInvalid) as missing:
        answer(connection, partner, C.NO_CAPACITY)
    assert "capacity_returns_on" in missing.value.errors
    for wrong in (TODAY, TODAY + timedelta(days=800)):
        with pytest.raises(CaseworkInvalid):
            answer(connection, partner, C.NO_CAPACITY, capacity_returns_on=wrong)
    with pytest.raises(CaseworkInvalid) as misplaced:
        answer(connection, partner, C.TAKEN_ON, capacity_returns_on=TODAY + timedelta(days=5))
    assert "unless you answer no capacity" in misplaced.value.errors["capacity_returns_on"]
    returns = TODAY + timedelta(days=30)
    answer(connection, partner, C.NO_CAPACITY, capacity_returns_on=returns)
    assert connection.status is C.NO_CAPACITY
    assert (offer.capacity_status, offer.capacity_returns_on) == (CapacityStatus.FULL, returns)


def test_a_partner_cannot_give_a_connectors_answer_nor_answer_anothers_handover(
        db, make, hub, referral, offer, partner):
    connection = handover(referral, offer, hub)
    with pytest.raises(CaseworkInvalid):
        answer(connection, partner, C.WITHDRAWN)
    stranger = make.user(Role.PARTNER)
    with pytest.raises(NotPermitted):
        answer(connection, stranger, C.TAKEN_ON)
    assert connection.status is C.SUGGESTED


def test_a_stale_answer_is_refused_and_the_connection_keeps_the_first(
        db, hub, referral, offer, partner):
    connection = handover(referral, offer, hub)
    version = connection.version
    matching.update_connection(connection, status=C.DECLINED, on=TODAY, actor=hub.connector,
                               today=TODAY, expected_version=version)
    with pytest.raises(StaleConnection):
        answer(connection, partner, C.TAKEN_ON, expected_version=version)
    assert connection.status is C.DECLINED


def test_a_partners_attended_and_no_capacity_show_over_fhir(
        db, hub, referral, offer, offers, partner):  # noqa: F811
    connection = handover(referral, offer, hub)
    answer(connection, partner, C.TAKEN_ON)
    assert not procedure.is_procedure(connection)  # taken on: nothing done yet
    answer(connection, partner, C.ATTENDED)
    assert procedure.to_fhir(connection, referral)["status"] == "completed"
    full = offers("Lunch club")
    full.organisation = offer.organisation
    second = handover(referral, full, hub)
    answer(second, partner, C.NO_CAPACITY, capacity_returns_on=TODAY + timedelta(days=7))
    resource = procedure.to_fhir(second, referral)
    assert (resource["status"], resource["statusReason"]["coding"][0]["code"]) == (
        "not-done", "no-capacity")


# --- the matcher respects "no capacity until" ---------------------------------------


def test_the_matcher_leaves_out_an_offer_full_until_a_later_day_then_suggests_it_again(
        db, make, hub, offer):
    person = make.referral(hub.practice, connector=hub.connector,
                           status=ReferralStatus.IN_PROGRESS)
    offer.capacity_status = CapacityStatus.FULL
    offer.capacity_returns_on = TODAY + timedelta(days=10)
    db.session.flush()
    suggested = lambda day: [s.offer.id for s in matching.suggestions_for(person, today=day)]
    assert offer.id not in suggested(TODAY)
    assert offer.id in suggested(TODAY + timedelta(days=10))
    assert matching.match_for(person, offer, today=TODAY) is None


def test_answers_offered_to_a_partner_follow_the_connection(db, hub, referral, offer, partner):
    connection = handover(referral, offer, hub)
    assert service.answers_for(partner, connection, referral) == [C.TAKEN_ON, C.NO_CAPACITY]
    answer(connection, partner, C.TAKEN_ON)
    assert service.answers_for(partner, connection, referral) == [
        C.ATTENDED, C.DID_NOT_ATTEND, C.NO_CAPACITY]


def test_an_answer_without_a_choice_or_after_the_referral_closed_is_an_error_not_a_crash(
        db, hub, referral, offer, partner):
    connection = handover(referral, offer, hub)
    with pytest.raises(CaseworkInvalid) as missing:
        answer(connection, partner, None)
    assert missing.value.errors["status"] == "Select what happened"
    referral.status = ReferralStatus.COMPLETED
    with pytest.raises(CaseworkInvalid) as closed:
        answer(connection, partner, C.TAKEN_ON)
    assert "no longer be answered" in closed.value.errors["status"]


def test_the_matcher_says_until_when_an_offer_is_full(db, make, hub, offer):
    from referrals.matching.facts import facts_for, needs_for
    from referrals.matching.scoring import excluded_reason

    person = make.referral(hub.practice, connector=hub.connector,
                           status=ReferralStatus.IN_PROGRESS)
    offer.capacity_status = CapacityStatus.FULL
    offer.capacity_returns_on = TODAY + timedelta(days=10)
    reason = excluded_reason(needs_for(person, None, TODAY), facts_for(offer))
    assert reason == f"full: no room until {offer.capacity_returns_on:%-d %B %Y}"


def test_the_organisation_hears_of_a_handover_and_the_connector_of_the_answer(
        db, make, hub, referral, offer, partner):
    from referrals.models import Notification

    def notices(user):
        return db.session.scalars(select(Notification).where(
            Notification.user_id == user.id)).all()

    connection = handover(referral, offer, hub)
    make.user(Role.PARTNER)  # another organisation's: told nothing
    [told] = notices(partner)
    assert told.url == f"/partner/handovers/{connection.id}" and "Ada" not in told.body
    answer(connection, partner, C.TAKEN_ON)
    [heard] = notices(hub.connector)
    assert heard.title == f"{referral.reference}: Kindlebury Befrienders says taken on"

"""Connections and suggestions: what suits the person, explained suggestions, and each
offer put to them followed to attended or not (the rules in referrals.matching.service)."""
from __future__ import annotations

import itertools
import uuid
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from referrals.directory import vocabulary
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.matching import service
from referrals.models import (
    AuditEvent,
    CapacityStatus,
    ConnectionKind,
    ConnectionStatus,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferStatus,
    PostcodePlace,
    ReferralStatus,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from tests.referrals.caseload import conftest as casework

hub = casework.hub  # the casework tests' team, shared as a fixture of this module

C = ConnectionStatus
S = ReferralStatus
SIGNPOST, REFERRAL = ConnectionKind.SIGNPOST, ConnectionKind.REFERRAL
TODAY = date(2026, 3, 10)  # a Tuesday
HOME = ("LS1 4AP", 53.7960, -1.5470)  # the builders' postcode for every person
_ids = itertools.count(1)


def new_id() -> str:
    return str(uuid.uuid4())


class Offers:
    """Directory offers for the tests: a walking group by default, a kilometre from home."""

    def __init__(self, session):
        self.session = session

    def term(self, code: str) -> TaxonomyTerm:
        term = self.session.get(TaxonomyTerm, vocabulary.term_id(code))
        if term is None:
            if self.session.get(Taxonomy, vocabulary.TAXONOMY_ID) is None:
                self.session.add(Taxonomy(id=vocabulary.TAXONOMY_ID,
                                          name=vocabulary.TAXONOMY_NAME))
            category = vocabulary.CATEGORY_BY_CODE[code]
            term = TaxonomyTerm(id=category.id, taxonomy_id=vocabulary.TAXONOMY_ID,
                                code=code, name=category.name)
            self.session.add(term)
        return term

    def __call__(self, name: str | None = None, *, categories=("befriending",), days="TU",
                 opens=time(10), closes=time(12), km_north: float | None = 1.0,
                 is_free=True, status=OfferStatus.ACTIVE, capacity=CapacityStatus.OPEN,
                 minimum_age=None, maximum_age=None, accessibility=()) -> Offer:
        name = name or f"Offer {next(_ids)}"
        offer = Offer(
            id=new_id(), name=name, status=status, capacity_status=capacity, is_free=is_free,
            minimum_age=minimum_age, maximum_age=maximum_age, languages=[],
            organisation=DirectoryOrganisation(id=new_id(), name=f"{name} Trust"),
            contact_phone="01632 960999",
        )
        if km_north is not None:
            location = Location(id=new_id(), name=f"{name} hall", postal_code="LS1 1AA",
                                latitude=HOME[1] + km_north / 111.2, longitude=HOME[2],
                                accessibility=list(accessibility))
            offer.sites.append(ServiceAtLocation(id=new_id(), location=location))
        if days:
            offer.schedules.append(Schedule(id=new_id(), freq="WEEKLY", byday=days,
                                            opens_at=opens, closes_at=closes))
        for code in categories:
            offer.attributes.append(OfferAttribute(id=new_id(), term=self.term(code)))
        self.session.add(offer)
        self.session.flush()
        return offer


@pytest.fixture
def offers(db) -> Offers:
    db.session.merge(PostcodePlace(postcode=HOME[0], latitude=HOME[1], longitude=HOME[2]))
    db.session.flush()
    return Offers(db.session)


@pytest.fixture
def referral(make, hub):
    """A referral for loneliness (befriending, social groups…), in progress with hub.connector."""
    return make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS)


def record(referral, offer, actor, **kwargs):
    kwargs.setdefault("kind", SIGNPOST)
    kwargs.setdefault("today", TODAY)
    return service.record_connection(referral, offer, actor=actor, **kwargs)


def move(connection, status, actor, on=TODAY, **kwargs):
    return service.update_connection(connection, status=status, on=on, actor=actor,
                                     today=TODAY, **kwargs)


def audit_rows(db, referral) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "referral",
                                 AuditEvent.entity_id == referral.id).order_by(AuditEvent.id)))


# --- recording a connection --------------------------------------------------------


def test_recording_a_suggestion_keeps_the_matchers_score_and_starts_its_history(
        db, hub, referral, offers):
    offer = offers("Kindlebury Befrienders")
    match = service.match_for(referral, offer, today=TODAY)
    version = referral.version

    connection = record(referral, offer, hub.connector, match=match, notes="Rang them")

    assert connection.status is C.SUGGESTED and connection.kind is SIGNPOST
    assert connection.match_score == match.score and connection.match_score > 0
    assert connection.match_explanation == match.explanation
    assert "1.0 km" in connection.match_explanation
    [event] = connection.events
    assert (event.from_status, event.to_status, event.on, event.actor) == (
        None, C.SUGGESTED, TODAY, hub.connector)
    assert event.note == "Rang them"
    assert referral.connections == [connection]
    assert referral.version == version + 1
    row = audit_rows(db, referral)[-1]
    assert row.action == "record-connection" and row.actor_id == hub.connector.id
    assert row.patient_id == referral.patient_id
    assert row.detail["connection_id"] == connection.id


def test_an_offer_found_by_search_is_recorded_without_a_score(hub, referral, offers):
    connection = record(referral, offers(), hub.connector, kind=REFERRAL)

    assert connection.kind is REFERRAL
    assert connection.match_score is None and connection.match_explanation == ""


def test_a_connection_that_already_happened_is_recorded_at_its_status_and_start(
        hub, referral, offers):
    last_week = TODAY - timedelta(days=7)

    connection = record(referral, offers(), hub.connector, status=C.ATTENDED, on=last_week)

    assert connection.status is C.ATTENDED
    assert connection.started_on == last_week
    assert [e.to_status for e in connection.events] == [C.ATTENDED]


def test_kind_is_required_and_the_date_may_not_be_in_the_future(hub, referral, offers):
    with pytest.raises(CaseworkInvalid) as refused:
        record(referral, offers(), hub.connector, kind=None, on=TODAY + timedelta(days=1))

    assert set(refused.value.errors) == {"kind", "on"}
    assert referral.connections == []


def test_a_connection_cannot_start_withdrawn(hub, referral, offers):
    with pytest.raises(CaseworkInvalid) as refused:
        record(referral, offers(), hub.connector, status=C.WITHDRAWN)
    assert "status" in refused.value.errors


def test_an_offer_already_being_followed_cannot_be_connected_twice(hub, referral, offers):
    offer = offers("Tuesday Walkers")
    first = record(referral, offer, hub.connector)
    move(first, C.ACCEPTED, hub.connector)
    move(first, C.DID_NOT_ATTEND, hub.connector)  # not final: they may still go

    with pytest.raises(CaseworkInvalid) as refused:
        record(referral, offer, hub.connector, kind=REFERRAL)

    assert "already one of this person's connections" in refused.value.errors["offer"]


@pytest.mark.parametrize("final", [C.WITHDRAWN, C.DECLINED, C.NO_CAPACITY])
def test_after_a_final_status_the_offer_can_be_put_to_them_again(hub, referral, offers, final):
    offer = offers()
    move(record(referral, offer, hub.connector), final, hub.connector)

    again = record(referral, offer, hub.connector, kind=REFERRAL)

    assert again.status is C.SUGGESTED and len(referral.connections) == 2


def test_an_inactive_offer_cannot_be_connected(hub, referral, offers):
    offer = offers(status=OfferStatus.INACTIVE)

    with pytest.raises(CaseworkInvalid) as refused:
        record(referral, offer, hub.connector)

    assert "not running" in refused.value.errors["offer"]


@pytest.mark.parametrize("status", [S.RECEIVED, S.COMPLETED, S.DECLINED, S.CANCELLED])
def test_only_an_accepted_or_in_progress_referral_takes_connections(make, hub, offers, status):
    closed = make.referral(hub.practice, connector=hub.connector, status=status)

    with pytest.raises(NotPermitted):
        record(closed, offers(), hub.connector)


def test_an_accepted_referral_takes_connections(make, hub, offers):
    accepted = make.referral(hub.practice, connector=hub.connector, status=S.ACCEPTED)
    assert record(accepted, offers(), hub.connector).status is C.SUGGESTED


def test_a_colleague_or_another_team_cannot_record_but_the_coordinator_can(
        hub, referral, offers):
    for outsider in (hub.colleague, hub.other_team_connector):
        with pytest.raises(NotPermitted):
            record(referral, offers(), outsider)

    covered = record(referral, offers(), hub.coordinator)

    assert covered.created_by == hub.coordinator


# --- moving a connection on ------------------------------------------------------------

ALLOWED = {
    # Issue 15: "taken on" is the partner organisation's answer to a warm handover.
    C.SUGGESTED: {C.ACCEPTED, C.TAKEN_ON, C.DECLINED, C.WITHDRAWN, C.NO_CAPACITY},
    C.ACCEPTED: {C.TAKEN_ON, C.ATTENDED, C.DID_NOT_ATTEND, C.DECLINED, C.NO_CAPACITY,
                 C.WITHDRAWN},
    C.TAKEN_ON: {C.ATTENDED, C.DID_NOT_ATTEND, C.DECLINED, C.NO_CAPACITY, C.WITHDRAWN},
    C.DID_NOT_ATTEND: {C.ATTENDED, C.WITHDRAWN},
}
FINAL = {C.ATTENDED, C.DECLINED, C.NO_CAPACITY, C.WITHDRAWN}


def test_the_table_is_the_issues_journey():
    assert {s: m for s, m in service.CONNECTION_MOVES.items() if m} == ALLOWED
    assert {s for s in ConnectionStatus if service.is_final(s)} == FINAL


@pytest.mark.parametrize("start", [C.SUGGESTED, C.ACCEPTED, C.TAKEN_ON, C.DID_NOT_ATTEND])
@pytest.mark.parametrize("to", list(ConnectionStatus))
def test_every_move_is_allowed_or_refused_as_the_table_says(hub, referral, offers, start, to):
    connection = record(referral, offers(), hub.connector, status=start)
    if to in ALLOWED[start]:
        event = move(connection, to, hub.connector)
        assert (event.from_status, event.to_status) == (start, to)
        assert connection.status is to
    else:
        with pytest.raises(CaseworkInvalid) as refused:
            move(connection, to, hub.connector)
        assert "status" in refused.value.errors
        assert connection.status is start and len(connection.events) == 1


@pytest.mark.parametrize("final", sorted(FINAL))
def test_a_final_status_is_final(hub, referral, offers, final):
    connection = record(referral, offers(), hub.connector)
    if final is C.ATTENDED:
        move(connection, C.ACCEPTED, hub.connector)
    move(connection, final, hub.connector)

    assert service.next_statuses(connection) == []
    with pytest.raises(CaseworkInvalid) as refused:
        move(connection, C.ACCEPTED, hub.connector)
    assert "final" in refused.value.errors["status"]


def test_suggested_to_accepted_to_attended_records_each_step_and_the_start(
        db, hub, referral, offers):
    connection = record(referral, offers(), hub.connector, on=TODAY - timedelta(days=9))
    versions = [(connection.version, referral.version)]

    move(connection, C.ACCEPTED, hub.connector, on=TODAY - timedelta(days=8))
    versions.append((connection.version, referral.version))
    move(connection, C.ATTENDED, hub.coordinator, on=TODAY - timedelta(days=2),
         note="Loved it")
    versions.append((connection.version, referral.version))

    assert [(e.from_status, e.to_status) for e in connection.events] == [
        (None, C.SUGGESTED), (C.SUGGESTED, C.ACCEPTED), (C.ACCEPTED, C.ATTENDED)]
    assert connection.events[-1].actor == hub.coordinator
    assert connection.events[-1].note == "Loved it"
    assert connection.started_on == TODAY - timedelta(days=2)
    assert versions[1][0] == versions[0][0] + 1 and versions[2][0] == versions[1][0] + 1
    assert versions[1][1] == versions[0][1] + 1 and versions[2][1] == versions[1][1] + 1
    assert [r.action for r in audit_rows(db, referral)][-3:] == [
        "record-connection", "update-connection", "update-connection"]


def test_going_after_a_missed_first_session_counts_as_attended(hub, referral, offers):
    connection = record(referral, offers(), hub.connector, status=C.ACCEPTED,
                        on=TODAY - timedelta(days=7))
    move(connection, C.DID_NOT_ATTEND, hub.connector, on=TODAY - timedelta(days=7))

    move(connection, C.ATTENDED, hub.connector, on=TODAY)

    assert connection.status is C.ATTENDED and connection.started_on == TODAY


def test_a_move_needs_a_status_and_a_date_neither_future_nor_before_the_last_change(
        hub, referral, offers):
    connection = record(referral, offers(), hub.connector, on=TODAY - timedelta(days=3))

    for status, on, field in [
        (None, TODAY, "status"),
        (C.ACCEPTED, None, "on"),
        (C.ACCEPTED, TODAY + timedelta(days=1), "on"),
        (C.ACCEPTED, TODAY - timedelta(days=4), "on"),
    ]:
        with pytest.raises(CaseworkInvalid) as refused:
            service.update_connection(connection, status=status, on=on, actor=hub.connector,
                                      today=TODAY)
        assert field in refused.value.errors, (status, on)
    assert connection.status is C.SUGGESTED and len(connection.events) == 1


def test_a_connection_of_a_closed_referral_cannot_move(db, hub, referral, offers):
    connection = record(referral, offers(), hub.connector)
    referral.status = S.COMPLETED  # as if closed since

    with pytest.raises(NotPermitted):
        move(connection, C.ACCEPTED, hub.connector)


def test_another_teams_connector_cannot_move_a_connection(hub, referral, offers):
    connection = record(referral, offers(), hub.connector)
    with pytest.raises(NotPermitted):
        move(connection, C.ACCEPTED, hub.other_team_connector)


# --- suggestions -------------------------------------------------------------------


def test_suggestions_are_explained_and_leave_out_connected_inactive_and_full_offers(
        hub, referral, offers):
    near = offers("Near Befrienders", km_north=0.5)
    far = offers("Far Befrienders", km_north=6.0)
    offers("Closed Befrienders", status=OfferStatus.INACTIVE)
    offers("Full Befrienders", capacity=CapacityStatus.FULL)
    connected = offers("Connected Befrienders")
    record(referral, connected, hub.connector)

    found = service.suggestions_for(referral, today=TODAY)

    assert [s.offer for s in found] == [near, far]
    best = found[0].match
    assert best.offer_id == near.id and best.score > found[1].match.score
    assert "0.5 km" in best.explanation and "Tuesdays 10:00" in best.explanation
    assert all(f.text for f in best.factors if not f.fits)


def test_a_withdrawn_offer_is_suggested_again(hub, referral, offers):
    offer = offers()
    move(record(referral, offer, hub.connector), C.WITHDRAWN, hub.connector)

    assert [s.offer for s in service.suggestions_for(referral, today=TODAY)] == [offer]


def test_an_offer_that_fills_up_drops_out_of_suggestions_at_once(db, hub, referral, offers):
    offer = offers()
    assert [s.offer for s in service.suggestions_for(referral, today=TODAY)] == [offer]

    offer.capacity_status = CapacityStatus.FULL
    db.session.flush()

    assert service.suggestions_for(referral, today=TODAY) == []


def test_suggestions_are_limited_and_best_first(hub, referral, offers):
    made = [offers(km_north=0.5 + n) for n in range(5)]

    found = service.suggestions_for(referral, today=TODAY, limit=3)

    assert [s.offer for s in found] == made[:3]


def test_an_unknown_postcode_still_gets_suggestions_without_distance(
        db, make, hub, offers):
    elsewhere = make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS,
                              person={"postcode": "YO1 7HH"})
    offers()

    [suggestion] = service.suggestions_for(elsewhere, today=TODAY)

    assert "km" not in suggestion.match.explanation


# --- what suits them ---------------------------------------------------------------


def save(referral, actor, **changes):
    values = {"availability": [], "prefers_free": False, "max_distance_km": None,
              "access_needs": [], "language": "", **changes}
    service.save_preferences(referral, actor=actor, **values)


def test_what_suits_them_is_saved_in_a_fixed_order_audited_and_versioned(
        db, hub, referral):
    version = referral.version

    save(referral, hub.connector, availability=["TH-evening", "TU-morning", "TU-morning"],
         prefers_free=True, max_distance_km=3.5, access_needs=["seating", "step-free"],
         language="pl")

    assert referral.availability == ["TU-morning", "TH-evening"]
    assert referral.prefers_free is True and referral.max_distance_km == 3.5
    assert referral.access_needs == ["step-free", "seating"]
    assert referral.language == "pl"
    assert referral.version == version + 1
    assert audit_rows(db, referral)[-1].action == "save-preferences"


@pytest.mark.parametrize("changes, field", [
    ({"availability": ["XX-morning"]}, "availability"),
    ({"availability": ["TU-night"]}, "availability"),
    ({"access_needs": ["jetpack"]}, "access_needs"),
    ({"language": "klingon"}, "language"),
    ({"max_distance_km": 0.0}, "max_distance_km"),
    ({"max_distance_km": -2.0}, "max_distance_km"),
    ({"max_distance_km": 101.0}, "max_distance_km"),
])
def test_what_suits_them_refuses_values_outside_the_lists(hub, referral, changes, field):
    with pytest.raises(CaseworkInvalid) as refused:
        save(referral, hub.connector, **changes)
    assert field in refused.value.errors
    assert referral.availability == []


def test_only_the_connector_holding_the_referral_or_a_coordinator_sets_what_suits(
        hub, referral):
    with pytest.raises(NotPermitted):
        save(referral, hub.colleague, prefers_free=True)
    save(referral, hub.coordinator, prefers_free=True)
    assert referral.prefers_free is True


def test_what_suits_them_changes_the_ranking(hub, referral, offers):
    tuesday = offers("Tuesday Befrienders", days="TU", km_north=2.0)
    thursday = offers("Thursday Befrienders", days="TH", km_north=2.0)

    save(referral, hub.connector, availability=["TH-morning"])
    assert [s.offer for s in service.suggestions_for(referral, today=TODAY)] == [
        thursday, tuesday]
    misfit = service.suggestions_for(referral, today=TODAY)[1].match
    assert "Tuesdays only — not a day that suits" in misfit.explanation

    save(referral, hub.connector, availability=["TU-morning"])
    assert [s.offer for s in service.suggestions_for(referral, today=TODAY)] == [
        tuesday, thursday]


def test_how_far_they_will_travel_leaves_out_further_offers(hub, referral, offers):
    near = offers(km_north=1.0)
    offers(km_north=8.0)

    save(referral, hub.connector, max_distance_km=3)

    assert [s.offer for s in service.suggestions_for(referral, today=TODAY)] == [near]


def test_free_only_ranks_a_free_offer_above_a_paid_one(hub, referral, offers):
    paid = offers("Paid", is_free=False, km_north=1.0)
    free = offers("Free", is_free=True, km_north=1.0)

    save(referral, hub.connector, prefers_free=True)

    assert [s.offer for s in service.suggestions_for(referral, today=TODAY)] == [free, paid]

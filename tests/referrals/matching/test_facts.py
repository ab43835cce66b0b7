"""The matcher's facts, from the models: what an offer is, and what suits the person."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals.directory.vocabulary import CAPACITY_TERMS, KIND_TERMS, term_id
from referrals.geo import Place
from referrals.matching.facts import age_on, facts_for, needs_for
from referrals.matching.scoring import OfferFacts, PersonNeeds, Session, rank
from referrals.models import (
    CapacityStatus,
    Location,
    Offer,
    OfferAttribute,
    OfferStatus,
    Patient,
    Referral,
    ReferralReason,
    Schedule,
    ServiceAtLocation,
    TaxonomyTerm,
)

TODAY = date(2026, 11, 23)
HALL = (52.2053, 0.1218)


def term(code: str, name: str = "") -> TaxonomyTerm:
    return TaxonomyTerm(id=term_id(code) if code else "imported-1", code=code,
                        name=name or code)


def venue(n: int, *, kind: str = "physical", at: tuple[float, float] | None = HALL,
          features: tuple[str, ...] = ()) -> ServiceAtLocation:
    lat, lon = at if at else (None, None)
    return ServiceAtLocation(id=f"sal-{n}", location=Location(
        id=f"loc-{n}", location_type=kind, latitude=lat, longitude=lon,
        accessibility=list(features)))


def walking_group(**changes) -> Offer:
    """An offer as the directory search leaves it loaded, never flushed."""
    fields = {
        "id": "offer-walk", "name": "Tuesday Walkers", "status": OfferStatus.ACTIVE,
        "capacity_status": CapacityStatus.OPEN, "is_free": True, "minimum_age": 18,
        "maximum_age": None, "languages": ["en", "PL"],
        "attributes": [
            OfferAttribute(id="a1", term=term("physical-activity")),
            OfferAttribute(id="a2", term=term("gardening-nature")),
            # Kind and capacity travel as terms too, and imported terms have no code.
            OfferAttribute(id="a3", term=TaxonomyTerm(id=KIND_TERMS["group"].id, code="group",
                                                      name="Group")),
            OfferAttribute(id="a4", term=TaxonomyTerm(id=CAPACITY_TERMS["open"].id,
                                                      code="open", name="Open")),
            OfferAttribute(id="a5", term=term("", "Imported walking term")),
        ],
        "sites": [venue(1, features=("step-free", "parking", "hearing-loop")),
                  venue(2, at=(52.21, 0.13), features=("parking", "step-free")),
                  venue(3, kind="virtual", at=None),
                  venue(4, at=None, features=("step-free", "parking"))],  # no coordinates
        "schedules": [
            Schedule(id="s1", freq="WEEKLY", byday="TH,TU", opens_at=time(14),
                     closes_at=time(15)),
            Schedule(id="s2", freq="WEEKLY", byday="TU", opens_at=time(10),
                     closes_at=time(12)),
            Schedule(id="s3", freq="MONTHLY", byday="1SA", opens_at=None, closes_at=None),
        ],
    }
    return Offer(**fields | changes)


def test_an_offers_facts_hold_what_the_matcher_needs():
    facts = facts_for(walking_group())

    assert facts == OfferFacts(
        offer_id="offer-walk", name="Tuesday Walkers",
        categories=frozenset({"physical-activity", "gardening-nature"}),
        places=(HALL, (52.21, 0.13)), is_virtual=True,
        sessions=(Session("TU", time(10), time(12)), Session("TU", time(14), time(15)),
                  Session("TH", time(14), time(15)), Session("SA", None, None)),
        is_free=True, minimum_age=18, maximum_age=None,
        accessibility=frozenset({"step-free", "parking"}),  # what every venue has
        languages=frozenset({"en", "pl"}), capacity="open", active=True)


@pytest.mark.parametrize(("status", "active"), [
    (OfferStatus.ACTIVE, True), (OfferStatus.INACTIVE, False), (OfferStatus.DEFUNCT, False),
    (OfferStatus.TEMPORARILY_CLOSED, False)])
def test_only_an_active_offer_is_active(status, active):
    assert facts_for(walking_group(status=status)).active is active


@pytest.mark.parametrize("capacity", list(CapacityStatus))
def test_capacity_is_the_status_code(capacity):
    assert facts_for(walking_group(capacity_status=capacity)).capacity == capacity.value


def test_an_offer_with_no_venue_schedule_or_category_is_virtual_unknown_and_flexible():
    facts = facts_for(Offer(id="o", name="Phone befriending", sites=[venue(1, kind="virtual",
                                                                           at=None)]))

    assert (facts.places, facts.is_virtual, facts.sessions, facts.categories) == (
        (), True, (), frozenset())
    # Never flushed, so the columns' defaults: active, open, paid, English, any age.
    assert (facts.active, facts.capacity, facts.is_free, facts.languages,
            facts.minimum_age, facts.maximum_age) == (True, "open", False, frozenset(), None, None)
    assert facts.accessibility == frozenset()


def test_a_daily_schedule_runs_every_day_and_one_with_no_day_is_no_fixed_time():
    daily = facts_for(walking_group(schedules=[
        Schedule(id="d", freq="DAILY", byday="", opens_at=time(9), closes_at=time(10))]))
    dayless = facts_for(walking_group(schedules=[
        Schedule(id="n", freq="WEEKLY", byday="", opens_at=time(9), closes_at=time(10))]))

    assert [s.weekday for s in daily.sessions] == ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    assert dayless.sessions == ()


def referral(**changes) -> Referral:
    fields = {
        "patient": Patient(birth_date=date(1950, 11, 24)),
        "reasons": [ReferralReason(code="physical-activity"), ReferralReason(code="carer-support")],
        "availability": ["TU-morning", "TH-afternoon"], "prefers_free": True,
        "max_distance_km": 3.0, "access_needs": ["step-free"], "language": " PL ",
    }
    return Referral(**fields | changes)


def test_a_persons_needs_come_from_the_reasons_and_the_recorded_preferences():
    needs = needs_for(referral(), (52.2, 0.12), TODAY)

    assert needs == PersonNeeds(
        categories=frozenset({"physical-activity", "gardening-nature", "carers"}),
        home=(52.2, 0.12), max_distance_km=3.0,
        availability=frozenset({"TU-morning", "TH-afternoon"}), prefers_free=True,
        age=75,  # 76 tomorrow
        access_needs=frozenset({"step-free"}), language="pl")


def test_nothing_recorded_means_no_preference():
    needs = needs_for(Referral(patient=Patient(birth_date=date(1990, 1, 1)),
                               reasons=[ReferralReason(code="other")]), None, TODAY)

    assert needs == PersonNeeds(frozenset(), None, None, frozenset(), False, 36, frozenset(), "")


@pytest.mark.parametrize("distance", [0, 0.0, -2])
def test_a_distance_of_nothing_is_no_limit(distance):
    assert needs_for(referral(max_distance_km=distance), None, TODAY).max_distance_km is None


def test_a_place_from_geo_locate_is_taken_as_home():
    place = Place("KB1 1AB", 52.2, 0.12, "postcode")

    assert needs_for(referral(), place, TODAY).home == (52.2, 0.12)


@pytest.mark.parametrize(("born", "age"), [
    (date(1950, 11, 23), 76), (date(1950, 11, 24), 75), (date(2000, 2, 29), 26),
    (date(2026, 11, 23), 0)])
def test_age_counts_whole_years(born, age):
    assert age_on(born, TODAY) == age


def test_a_referral_is_matched_to_an_offer_from_their_models():
    needs = needs_for(referral(max_distance_km=5.0), (HALL[0] - 2.1 / 111.195, HALL[1]), TODAY)

    [match] = rank(needs, [facts_for(walking_group())])

    assert match.explanation == "2.1 km, or by phone or online · Tuesdays 10:00 fits · free · " \
        "step-free access · in Polish"


def test_facts_read_an_offer_loaded_from_the_database(db):
    db.session.add(walking_group())
    db.session.flush()
    db.session.expunge_all()

    loaded = db.session.scalars(select(Offer).options(
        selectinload(Offer.sites), selectinload(Offer.schedules),
        selectinload(Offer.attributes))).one()

    assert facts_for(loaded) == facts_for(walking_group())


def test_a_volunteering_role_fits_people_looking_to_volunteer_not_the_need_it_serves():
    from referrals.models import OfferAttribute, OfferKind, TaxonomyTerm
    from referrals.directory import vocabulary

    role = Offer(id="role", name="Befriender volunteer", kind=OfferKind.VOLUNTEERING)
    for code in ("befriending", "volunteering"):
        category = vocabulary.CATEGORY_BY_CODE[code]
        role.attributes.append(OfferAttribute(
            id=f"a-{code}", term=TaxonomyTerm(id=category.id, code=code, name=category.name)))

    assert facts_for(role).categories == frozenset({"volunteering"})

"""The coordinator's directory rules: offers and organisations, verification, capacity."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from referrals.directory import listing, service, vocabulary
from referrals.directory.details import (
    DirectoryInvalid,
    OfferDetails,
    OrganisationDetails,
    Session,
    Venue,
    offer_problems,
)
from referrals.directory.listing import OfferFilter
from referrals.errors import NotPermitted
from referrals.geo import load_postcodes
from referrals.models import (
    AuditEvent,
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
    Role,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

TODAY = date(2026, 11, 23)


@pytest.fixture
def coordinator(make):
    return make.user(Role.COORDINATOR)


@pytest.fixture
def charity(offers):
    return offers.organisation("Kindlebury Community Trust")


@pytest.fixture(autouse=True)
def postcodes(db):
    load_postcodes([{"postcode": "KB1 1AB", "latitude": "52.8", "longitude": "-2.1"}])


@pytest.fixture
def details(charity):
    """Details of a free Tuesday walking group that pass every rule; replace() to vary."""
    return OfferDetails(
        name="Tuesday Strollers", organisation_id=charity.id, kind=OfferKind.GROUP,
        description="A gentle walk round the park, then tea.",
        categories=["physical-activity", "social-groups"], status=OfferStatus.ACTIVE,
        venue=Venue(name="Park café", address_1="Park Lane", city="Kindlebury",
                    postcode="kb11ab"),
        accessibility=["step-free", "seating"],
        sessions=[Session(1, "TU", time(10), time(11, 30))], free=True,
        minimum_age=18, eligibility_description="Adults who can walk a mile",
        languages=["en", "pl"], contact_name="Jo", contact_phone="01632 960001",
        email="walks@example.org", website="www.example.org/walks",
    )


def audit_actions(db, entity_type):
    return [(e.action, e.detail.get("id")) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id))]


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


# --- creating offers ---------------------------------------------------------------


def test_a_new_offer_gets_new_uuids_and_every_detail(db, coordinator, details, charity):
    offer = service.create_offer(details, actor=coordinator)
    db.session.expire_all()
    offer = db.session.get(Offer, offer.id)

    assert is_uuid(offer.id)
    assert offer.organisation == charity and offer.kind is OfferKind.GROUP
    assert sorted(offer.category_codes) == ["physical-activity", "social-groups"]
    assert all(is_uuid(a.id) for a in offer.attributes)
    venue = offer.locations[0]
    assert is_uuid(venue.id) and is_uuid(offer.sites[0].id) and is_uuid(venue.address_id)
    assert (venue.name, venue.postal_code, venue.city) == ("Park café", "KB1 1AB", "Kindlebury")
    assert venue.organisation_id == charity.id
    assert venue.accessibility == ["step-free", "seating"]
    [session] = offer.schedules
    assert (session.freq, session.byday, session.opens_at, session.closes_at) == (
        "WEEKLY", "TU", time(10), time(11, 30))
    assert (offer.minimum_age, offer.maximum_age) == (18, None)
    assert offer.languages == ["en", "pl"]
    assert offer.url == "https://www.example.org/walks"
    assert ("create", offer.id) in audit_actions(db, "offer")


def test_a_free_offer_has_one_cost_option_of_nothing_and_is_free(db, coordinator, details):
    offer = service.create_offer(details, actor=coordinator)

    assert offer.is_free
    assert [(c.option, c.amount) for c in offer.cost_options] == [("Free", Decimal(0))]


def test_a_charged_offer_keeps_its_amount_and_description_and_is_not_free(
        db, coordinator, details):
    offer = service.create_offer(
        replace(details, free=False, amount=Decimal("3.50"), cost_description="Per session"),
        actor=coordinator)

    assert not offer.is_free
    [cost] = offer.cost_options
    assert (cost.amount, cost.amount_description, cost.currency) == (
        Decimal("3.50"), "Per session", "GBP")
    assert offer.fees_description == "Per session"


def test_category_terms_are_added_once_with_the_vocabulary_ids(db, coordinator, details):
    service.create_offer(details, actor=coordinator)
    service.create_offer(replace(details, name="Second"), actor=coordinator)

    terms = db.session.scalars(select(TaxonomyTerm).order_by(TaxonomyTerm.code)).all()
    assert [(t.id, t.code) for t in terms] == [
        (vocabulary.term_id("physical-activity"), "physical-activity"),
        (vocabulary.term_id("social-groups"), "social-groups")]
    assert db.session.get(Taxonomy, vocabulary.TAXONOMY_ID) is not None


def test_a_venue_is_placed_from_its_postcode_when_no_position_is_typed(
        db, coordinator, details):
    offer = service.create_offer(details, actor=coordinator)

    assert (offer.locations[0].latitude, offer.locations[0].longitude) == (52.8, -2.1)
    assert not service.unplaced(offer)


def test_a_typed_position_wins_over_the_postcode(db, coordinator, details):
    venue = replace(details.venue, latitude=52.81, longitude=-2.12)
    offer = service.create_offer(replace(details, venue=venue), actor=coordinator)

    assert (offer.locations[0].latitude, offer.locations[0].longitude) == (52.81, -2.12)


def test_an_unknown_postcode_is_saved_without_coordinates_and_said_so(db, coordinator, details):
    offer = service.create_offer(replace(details, venue=replace(details.venue,
                                                                postcode="KB9 9ZZ")),
                                 actor=coordinator)

    assert offer.locations[0].postal_code == "KB9 9ZZ"
    assert offer.locations[0].latitude is None
    assert service.unplaced(offer)


def test_an_offer_without_a_venue_has_no_location_and_is_not_unplaced(
        db, coordinator, details):
    offer = service.create_offer(replace(details, venue=Venue(), accessibility=[]),
                                 actor=coordinator)

    assert offer.sites == [] and not service.unplaced(offer)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name": "  "}, "name", "Enter the offer's name"),
    ({"organisation_id": None}, "organisation", "Choose the organisation"),
    ({"organisation_id": "no-such-org"}, "organisation", "Choose the organisation"),
    ({"kind": None}, "kind", "Choose what kind"),
    ({"status": None}, "status", "Choose whether"),
    ({"categories": ["astrology"]}, "categories", "Choose categories from the list"),
    ({"accessibility": ["teleporter"]}, "accessibility", "from the list"),
    ({"venue": Venue(), "accessibility": ["step-free"]}, "accessibility", "Enter the venue"),
    ({"languages": ["xx"]}, "languages", "Choose languages"),
    ({"venue": Venue(address_1="Park Lane")}, "postcode", "Enter the venue's postcode"),
    ({"venue": Venue(postcode="not a postcode")}, "postcode", "Enter a real postcode"),
    ({"venue": Venue(postcode="KB1 1AB", latitude=52.8)}, "longitude", "Enter both"),
    ({"venue": Venue(postcode="KB1 1AB", latitude=91.0, longitude=0.0)}, "latitude",
     "between -90 and 90"),
    ({"sessions": [Session(1, "TU", time(11), time(10))]}, "session_1_closes",
     "The time session 1 finishes must be after it starts"),
    ({"sessions": [Session(2, "TU", time(11), time(11))]}, "session_2_closes", "after it starts"),
    ({"sessions": [Session(1, None, time(10), time(11))]}, "session_1_day", "Choose the day"),
    ({"sessions": [Session(3, "XX", time(10), time(11))]}, "session_3_day", "Choose the day"),
    ({"sessions": [Session(1, "TU", None, time(11))]}, "session_1_opens", "starts"),
    ({"free": None}, "cost", "Say whether the offer is free"),
    ({"free": False}, "amount", "Enter the amount, or describe the cost"),
    ({"free": False, "amount": Decimal(0)}, "amount", "more than £0"),
    ({"free": False, "amount": Decimal(10000)}, "amount", "less than £10,000"),
    ({"minimum_age": 30, "maximum_age": 20}, "maximum_age", "same as or more than"),
    ({"minimum_age": 121}, "minimum_age", "from 0 to 120"),
    ({"maximum_age": -1}, "maximum_age", "from 0 to 120"),
    ({"email": "not-an-email"}, "email", "Enter an email address"),
    ({"contact_phone": "call me"}, "contact_phone", "Enter a phone number"),
    ({"website": "not a website"}, "website", "Enter a web address"),
    ({"name": "x" * 301}, "name", "300 characters or fewer"),
    ({"contact_name": "x" * 201}, "contact_name", "200 characters or fewer"),
])
def test_a_broken_rule_is_refused_by_its_field_and_nothing_is_saved(
        db, coordinator, details, change, field, message):
    with pytest.raises(DirectoryInvalid) as refused:
        service.create_offer(replace(details, **change), actor=coordinator)

    assert message in refused.value.errors[field]
    assert db.session.scalar(select(func.count(Offer.id))) == 0


def test_every_problem_is_reported_at_once(db, coordinator, details):
    problems = offer_problems(replace(details, name="", free=None, minimum_age=200))

    assert set(problems) == {"name", "cost", "minimum_age"}


def test_a_minimum_age_equal_to_the_maximum_is_allowed(db, coordinator, details):
    offer = service.create_offer(replace(details, minimum_age=65, maximum_age=65),
                                 actor=coordinator)

    assert (offer.minimum_age, offer.maximum_age) == (65, 65)


def test_a_retired_organisation_cannot_run_an_active_offer(db, coordinator, details, charity):
    service.retire_organisation(charity, actor=coordinator)

    with pytest.raises(DirectoryInvalid) as refused:
        service.create_offer(details, actor=coordinator)
    assert "retired" in refused.value.errors["organisation"]
    offer = service.create_offer(replace(details, status=OfferStatus.INACTIVE),
                                 actor=coordinator)
    assert offer.status is OfferStatus.INACTIVE


@pytest.mark.parametrize("role", [Role.CONNECTOR, Role.REFERRER, Role.MANAGER, Role.ADMIN])
def test_only_a_coordinator_may_change_the_directory(db, make, offers, details, role):
    someone = make.user(role)
    offer = offers.offer()

    with pytest.raises(NotPermitted):
        service.create_offer(details, actor=someone)
    for change in (lambda: service.mark_verified(offer, actor=someone),
                   lambda: service.set_capacity(offer, CapacityStatus.FULL, actor=someone),
                   lambda: service.retire_offer(offer, actor=someone),
                   lambda: service.retire_organisation(offer.organisation, actor=someone)):
        with pytest.raises(NotPermitted):
            change()


def test_an_inactive_coordinator_may_not_change_the_directory(db, coordinator, offers):
    coordinator.active = False

    with pytest.raises(NotPermitted):
        service.mark_verified(offers.offer(), actor=coordinator)


# --- editing what an import brought ----------------------------------------------------


@pytest.fixture
def imported(db, charity):
    """An offer as an Open Referral import leaves it: its own ids, extra fields, a
    monthly session, two prices, a virtual venue and a term from another taxonomy."""
    db.session.add(Taxonomy(id="esd", name="LGA services"))
    db.session.add(TaxonomyTerm(id="esd-579", taxonomy_id="esd", name="Walking"))
    offer = Offer(
        id="svc-import-1", name="Imported walk", organisation=charity, kind=OfferKind.GROUP,
        status=OfferStatus.ACTIVE, is_free=False, extra={"alternate_name": "The walk"},
        fees_description="Adults £2, children £1",
    )
    hall = Location(id="loc-import-1", name="Old hall", address_1="1 Mill Lane",
                    city="Kindlebury", postal_code="KB1 1AB", latitude=52.7, longitude=-2.0,
                    address_id="addr-import-1", extra={"transportation": "Bus 4"},
                    accessibility=["step-free"])
    online = Location(id="loc-import-2", location_type="virtual", name="Online")
    offer.sites = [ServiceAtLocation(id="sal-import-2", location=online),
                   ServiceAtLocation(id="sal-import-1", location=hall,
                                     extra={"note": "kept"})]
    offer.schedules = [
        Schedule(id="sch-weekly", freq="WEEKLY", byday="TU", opens_at=time(10),
                 closes_at=time(12), extra={"timezone": "Europe/London"},
                 description="Tuesday mornings"),
        Schedule(id="sch-monthly", freq="MONTHLY", byday="1TH", opens_at=time(14),
                 closes_at=time(15)),
    ]
    offer.cost_options = [
        CostOption(id="cost-adult", option="Adult", amount=Decimal(2), extra={"x": 1}),
        CostOption(id="cost-child", option="Child", amount=Decimal(1)),
    ]
    offer.attributes = [OfferAttribute(id="attr-esd", taxonomy_term_id="esd-579")]
    db.session.add(offer)
    db.session.flush()
    return offer


def test_editing_an_imported_offer_keeps_its_ids_extra_and_what_the_form_does_not_show(
        db, coordinator, imported, details):
    service.update_offer(imported, replace(
        details, name="Renamed walk", free=False, amount=Decimal("2.50"),
        cost_description="Adults",
        sessions=[Session(1, "WE", time(9), time(10)), Session(2, "FR", time(9), time(10))],
    ), actor=coordinator)
    db.session.expire_all()
    offer = db.session.get(Offer, "svc-import-1")

    assert offer.name == "Renamed walk" and offer.extra == {"alternate_name": "The walk"}
    hall = db.session.get(Location, "loc-import-1")
    assert hall.address_1 == "Park Lane" and hall.extra == {"transportation": "Bus 4"}
    assert hall.address_id == "addr-import-1"
    assert hall.accessibility == ["step-free", "seating"]
    assert sorted(s.id for s in offer.sites) == ["sal-import-1", "sal-import-2"]
    assert db.session.get(ServiceAtLocation, "sal-import-1").extra == {"note": "kept"}
    by_id = {s.id: s for s in offer.schedules}
    assert by_id["sch-weekly"].byday == "WE"
    assert by_id["sch-weekly"].extra == {"timezone": "Europe/London"}
    assert by_id["sch-weekly"].description == ""  # it described the old times
    assert by_id["sch-monthly"].byday == "1TH"
    [new] = [s for s in offer.schedules if s.id not in ("sch-weekly", "sch-monthly")]
    assert is_uuid(new.id) and new.byday == "FR"
    assert [(c.id, c.amount) for c in offer.cost_options] == [
        ("cost-adult", Decimal("2.50")), ("cost-child", Decimal("1.00"))]
    assert offer.cost_options[0].extra == {"x": 1}
    assert "attr-esd" in [a.id for a in offer.attributes]
    assert sorted(offer.category_codes) == ["physical-activity", "social-groups"]
    [event] = [e for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "update", AuditEvent.entity_type == "offer"))]
    assert {"name", "venue", "sessions", "cost", "categories"} <= set(event.detail["changed"])


def test_the_weekly_sessions_the_form_edits_are_one_weekday_a_week(imported):
    assert [s.id for s in service.weekly_sessions(imported)] == ["sch-weekly"]
    assert [s.id for s in service.other_schedules(imported)] == ["sch-monthly"]
    assert service.venue_site(imported).id == "sal-import-1"


def test_making_a_charged_offer_free_leaves_one_free_option_with_the_first_id(
        db, coordinator, imported, details):
    service.update_offer(imported, details, actor=coordinator)

    assert imported.is_free
    assert [(c.id, c.option, c.amount) for c in imported.cost_options] == [
        ("cost-adult", "Free", Decimal(0))]


def test_a_free_offer_given_a_charge_is_no_longer_free(db, coordinator, details):
    offer = service.create_offer(details, actor=coordinator)
    first_id = offer.cost_options[0].id

    service.update_offer(offer, replace(details, free=False, amount=Decimal(1)),
                         actor=coordinator)

    assert not offer.is_free
    assert [(c.id, c.amount) for c in offer.cost_options] == [(first_id, Decimal(1))]


def test_removing_a_session_row_removes_that_schedule_only(db, coordinator, imported, details):
    service.update_offer(imported, replace(details, sessions=[]), actor=coordinator)

    assert [s.id for s in imported.schedules] == ["sch-monthly"]


def test_clearing_the_venue_unlinks_it_but_keeps_the_place(db, coordinator, imported, details):
    service.update_offer(imported, replace(details, venue=Venue(), accessibility=[]),
                         actor=coordinator)

    assert [s.id for s in imported.sites] == ["sal-import-2"]
    assert db.session.get(Location, "loc-import-1") is not None


def test_unticking_a_category_removes_only_that_category(db, coordinator, imported, details):
    service.update_offer(imported, details, actor=coordinator)
    service.update_offer(imported, replace(details, categories=["social-groups"]),
                         actor=coordinator)

    assert imported.category_codes == ["social-groups"]
    assert "attr-esd" in [a.id for a in imported.attributes]


def test_changing_the_postcode_places_the_venue_again(db, coordinator, imported, details):
    service.update_offer(imported, details, actor=coordinator)

    hall = service.venue_site(imported).location
    assert (hall.id, hall.latitude, hall.longitude) == ("loc-import-1", 52.8, -2.1)


# --- retiring ----------------------------------------------------------------------


def test_retiring_an_offer_makes_it_inactive_and_is_audited(db, coordinator, offers):
    offer = offers.offer()

    service.retire_offer(offer, actor=coordinator)

    assert offer.status is OfferStatus.INACTIVE
    assert ("retire", offer.id) in audit_actions(db, "offer")
    with pytest.raises(DirectoryInvalid):
        service.retire_offer(offer, actor=coordinator)


def test_retiring_an_organisation_makes_its_active_offers_inactive(db, coordinator, offers,
                                                                   charity):
    walk = offers.offer("Walk", organisation=charity)
    closed = offers.offer("Closed", organisation=charity, status=OfferStatus.TEMPORARILY_CLOSED)
    other = offers.offer("Elsewhere")

    retired = service.retire_organisation(charity, actor=coordinator)

    assert retired == [walk]
    assert walk.status is OfferStatus.INACTIVE
    assert closed.status is OfferStatus.TEMPORARILY_CLOSED
    assert other.status is OfferStatus.ACTIVE
    assert charity.retired_at is not None
    assert ("retire", charity.id) in audit_actions(db, "directory_organisation")
    assert ("retire", walk.id) in audit_actions(db, "offer")
    with pytest.raises(DirectoryInvalid):
        service.retire_organisation(charity, actor=coordinator)


# --- organisations -----------------------------------------------------------------


def test_a_new_organisation_gets_a_uuid_and_a_full_web_address(db, coordinator):
    organisation = service.create_organisation(
        OrganisationDetails(name=" Men's Shed ", website="menshed.example.org",
                            email="shed@example.org", phone="01632 960002"),
        actor=coordinator)

    assert is_uuid(organisation.id) and organisation.name == "Men's Shed"
    assert organisation.website == "https://menshed.example.org"
    assert ("create", organisation.id) in audit_actions(db, "directory_organisation")


def test_an_organisation_needs_a_name_and_sensible_contacts(db, coordinator):
    with pytest.raises(DirectoryInvalid) as refused:
        service.create_organisation(
            OrganisationDetails(name="", email="nope", phone="x", website="http://"),
            actor=coordinator)

    assert set(refused.value.errors) == {"name", "email", "phone", "website"}
    assert db.session.scalar(select(func.count(DirectoryOrganisation.id))) == 0


def test_updating_an_organisation_records_what_changed(db, coordinator, charity):
    service.update_organisation(charity, OrganisationDetails(name=charity.name,
                                                             phone="01632 960003"),
                                actor=coordinator)

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.detail["changed"] == ["phone"]


# --- verification and needs checking ---------------------------------------------------


def test_marking_verified_records_the_uk_date_and_who(db, coordinator, offers):
    offer = offers.offer()
    # 23:30 UTC on 30 June is 00:30 on 1 July in London.
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)

    service.mark_verified(offer, actor=coordinator, now=late)

    assert offer.last_verified_on == date(2026, 7, 1)
    assert offer.verified_by == coordinator
    assert offer.verified_by_email == coordinator.email
    assert ("verify", offer.id) in audit_actions(db, "offer")


def test_an_offer_needs_checking_from_183_days_after_it_was_verified(db, offers):
    fresh = offers.offer("Fresh", verified_on=TODAY - timedelta(days=182))
    due = offers.offer("Due", verified_on=TODAY - timedelta(days=183))

    assert not listing.is_due_check(fresh, TODAY)
    assert listing.is_due_check(due, TODAY)
    assert listing.needs_checking(today=TODAY).rows == [due]
    assert listing.needs_checking_count(today=TODAY) == 1


def test_needs_checking_lists_active_offers_never_verified_first_then_oldest(db, offers):
    old = offers.offer("Old", verified_on=TODAY - timedelta(days=400))
    older = offers.offer("Older", verified_on=TODAY - timedelta(days=500))
    never = offers.offer("Never", verified_on=None)
    offers.offer("Inactive", status=OfferStatus.INACTIVE)
    offers.offer("Recent", verified_on=TODAY)

    assert listing.needs_checking(today=TODAY).rows == [never, older, old]


def test_verifying_takes_an_offer_off_the_needs_checking_list(db, coordinator, offers):
    offer = offers.offer(verified_on=None)

    service.mark_verified(offer, actor=coordinator)

    assert listing.needs_checking(today=offer.last_verified_on).rows == []


# --- capacity ----------------------------------------------------------------------


def test_full_is_a_real_answer_with_the_time_it_was_given(db, coordinator, offers):
    offer = offers.offer(capacity=CapacityStatus.OPEN)
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)

    before = service.set_capacity(offer, CapacityStatus.FULL, actor=coordinator, now=at)

    assert before is CapacityStatus.OPEN
    assert offer.capacity_status is CapacityStatus.FULL
    assert offer.capacity_updated_at == at
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "capacity")).one()
    assert (event.detail["before"], event.detail["after"]) == ("open", "full")


def test_capacity_must_be_one_of_the_three_answers(db, coordinator, offers):
    with pytest.raises(DirectoryInvalid):
        service.set_capacity(offers.offer(), None, actor=coordinator)


# --- the list ----------------------------------------------------------------------


def test_the_list_filters_by_words_in_the_name_or_organisation(db, offers):
    shed = offers.organisation("Kindlebury Men's Shed")
    tools = offers.offer("Tool library", organisation=shed)
    walk = offers.offer("Walk 100% fun")
    offers.offer("Choir")

    def names(**kw):
        return [o.name for o in listing.find_offers(OfferFilter(**kw), today=TODAY).rows]

    assert names(text="men's shed") == [tools.name]
    assert names(text="100%") == [walk.name]
    assert names(text="%") == [walk.name]  # a wildcard typed is a character, not a pattern


def test_the_list_filters_by_status_kind_capacity_category_and_checking(
        db, coordinator, offers, details):
    made = service.create_offer(details, actor=coordinator)
    full = offers.offer("Full one", capacity=CapacityStatus.FULL, verified_on=TODAY)
    job = offers.offer("Volunteer", kind=OfferKind.VOLUNTEERING, verified_on=TODAY)
    gone = offers.offer("Gone", status=OfferStatus.INACTIVE)

    def ids(**kw):
        return {o.id for o in listing.find_offers(OfferFilter(**kw), today=TODAY).rows}

    assert ids(capacity=CapacityStatus.FULL) == {full.id}
    assert ids(kind=OfferKind.VOLUNTEERING) == {job.id}
    assert ids(status=OfferStatus.INACTIVE) == {gone.id}
    assert ids(category="social-groups") == {made.id}
    assert ids(needs_checking=True) == {made.id}
    assert ids() == {made.id, full.id, job.id, gone.id}


def test_the_list_pages_by_name(db, offers):
    for n in range(5):
        offers.offer(f"Offer {n}")

    second = listing.find_offers(OfferFilter(page=2, per_page=2), today=TODAY)
    beyond = listing.find_offers(OfferFilter(page=99, per_page=2), today=TODAY)

    assert ([o.name for o in second.rows], second.total, second.pages) == (
        ["Offer 2", "Offer 3"], 5, 3)
    assert beyond.page == 3 and [o.name for o in beyond.rows] == ["Offer 4"]


def test_organisations_are_listed_with_their_active_offers_retired_last(
        db, coordinator, offers):
    zeta = offers.organisation("Zeta")
    alpha = offers.organisation("Alpha")
    offers.offer(organisation=zeta)
    offers.offer(organisation=zeta, status=OfferStatus.INACTIVE)
    service.retire_organisation(alpha, actor=coordinator)

    assert listing.organisations_with_counts().rows == [(zeta, 1), (alpha, 0)]
    assert listing.organisation_choices() == [zeta]
    assert listing.organisation_choices(alpha.id) == [alpha, zeta]

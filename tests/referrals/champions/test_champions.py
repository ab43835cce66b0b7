"""Community champions: a coordinator sets a patch; the champion sees its listings and its
unmet needs in suppressed counts, and suggests; nothing is public before approval."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals.champions import service
from referrals.directory.details import OfferDetails, OrganisationDetails, Venue
from referrals.directory.service import create_offer, create_organisation
from referrals.models import (
    AuditEvent,
    ChampionSuggestion,
    DirectoryOrganisation,
    Offer,
    OfferKind,
    OfferStatus,
    Role,
    SuggestionStatus,
    UnmetNeed,
    UnmetReason,
    Volunteer,
    VolunteerStatus,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def team(make):
    return make.team(name="Vale Connectors")


@pytest.fixture
def coordinator(make, team):
    return make.user(Role.COORDINATOR, team=team, password=PASSWORD)


def volunteer(make, db, team, *, districts=(), status=VolunteerStatus.APPROVED, account=True):
    user = make.user(Role.VOLUNTEER, password=PASSWORD) if account else None
    record = Volunteer(team_id=team.id, user_id=user.id if user else None, given_name="Maya",
                       family_name="Singh", email="maya@example.org", status=status,
                       champion_districts=list(districts))
    db.session.add(record)
    db.session.flush()
    return record


def sign_in(client, db, user):
    db.session.commit()
    client.submit("/login", {"email": user.email, "password": PASSWORD})


def listing(coordinator, name, postcode):
    organisation = create_organisation(OrganisationDetails(name=f"{name} Trust"),
                                       actor=coordinator)
    return create_offer(OfferDetails(name=name, organisation_id=organisation.id,
                                     kind=OfferKind.GROUP, free=True,
                                     venue=Venue(name="Hall", postcode=postcode)),
                        actor=coordinator)


def test_a_coordinator_sets_a_patch_of_valid_districts(client, make, db, team, coordinator):
    maya = volunteer(make, db, team)
    sign_in(client, db, coordinator)
    url = f"/hub/champions/{maya.id}"
    bad = client.submit(url, {"districts": "KB1, 12X", "version": str(maya.version)})
    assert bad.status_code == 422
    assert "12X is not a postcode district" in bad.get_data(as_text=True)
    response = client.submit(url, {"districts": "kb1 KB2", "version": str(maya.version)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Volunteer, maya.id).champion_districts == ["KB1", "KB2"]
    stale = client.submit(url, {"districts": "KB3", "version": "1"})
    assert stale.status_code == 409 and "Someone else changed this" in stale.get_data(
        as_text=True)
    assert "Maya Singh" in client.get("/hub/champions").get_data(as_text=True)


def test_only_an_approved_volunteer_can_be_a_champion(make, db, team, coordinator):
    applicant = volunteer(make, db, team, status=VolunteerStatus.APPLIED)
    with pytest.raises(service.ChampionInvalid, match="only an approved volunteer"):
        service.set_patch(applicant, ["KB1"], actor=coordinator)


def test_the_champion_sees_their_patch_and_counts_with_small_ones_suppressed(
        client, make, db, team, coordinator):
    maya = volunteer(make, db, team, districts=["KB1"])
    listing(coordinator, "Riverside Walk", "KB1 2AB")
    listing(coordinator, "Far Away Choir", "KB9 1AB")
    referral = make.referral()
    for category, district, n in [("befriending", "KB1", 6), ("arts", "KB1", 2),
                                  ("gardening", "KB9", 7)]:
        db.session.add_all(UnmetNeed(referral_id=referral.id, category=category,
                                     reason=UnmetReason.NONE_NEARBY, postcode_district=district)
                           for _ in range(n))
    sign_in(client, db, maya.user)
    page = client.get("/champion").get_data(as_text=True)
    assert "Riverside Walk" in page and "Far Away Choir" not in page
    assert "Befriending" in page and ">6<" in page
    assert "&lt;5" in page and ">2<" not in page  # 2 is shown as "<5"
    assert "Gardening" not in page
    assert referral.patient.family_name not in page


def test_a_volunteer_who_is_not_a_champion_sees_no_patch(client, make, db, team):
    plain = volunteer(make, db, team)
    sign_in(client, db, plain.user)
    assert "You are not a champion" in client.get("/champion").get_data(as_text=True)
    assert client.get("/champion/suggest").status_code == 404


def test_a_new_group_is_public_only_after_a_coordinator_approves_it(client, make, db, team,
                                                                   coordinator):
    maya = volunteer(make, db, team, districts=["KB1"])
    sign_in(client, db, maya.user)
    group = {"kind": "new_group", "name": "Knit and Natter", "description": "Knitting, tea",
             "postcode": "KB1 4EF", "when": "Thursdays 2pm", "free": "yes"}
    outside = client.submit("/champion/suggest", {**group, "postcode": "KB7 1AB"})
    assert outside.status_code == 422 and "in your patch (KB1)" in outside.get_data(
        as_text=True)
    assert client.submit("/champion/suggest", group).status_code == 303
    suggestion = db.session.scalars(select(ChampionSuggestion)).one()
    assert db.session.scalars(select(Offer).where(Offer.name == "Knit and Natter")).first() \
        is None
    assert "Knit and Natter" not in client.get("/directory?q=knit").get_data(as_text=True)
    assert client.get("/hub/suggestions").status_code == 403

    client.post("/logout", data={"csrf_token": client.csrf_token("/champion")})
    sign_in(client, db, coordinator)
    assert "Knit and Natter" in client.get("/hub/suggestions").get_data(as_text=True)
    url = f"/hub/suggestions/{suggestion.id}"
    response = client.submit(url, {"decision": "approve", "version": str(suggestion.version)})
    assert response.status_code == 303
    offer = db.session.scalars(select(Offer).where(Offer.name == "Knit and Natter")).one()
    assert offer.status is OfferStatus.ACTIVE and offer.locations[0].postal_code == "KB1 4EF"
    assert db.session.scalars(select(DirectoryOrganisation).where(
        DirectoryOrganisation.name == "Knit and Natter")).one()
    assert "Knit and Natter" in client.get("/directory?q=knit").get_data(as_text=True)
    again = client.submit(url, {"decision": "reject", "reason": "x", "version": "1"})
    assert again.status_code == 409


def test_a_correction_is_applied_on_approval_and_a_rejection_needs_a_reason(
        make, db, team, coordinator):
    maya = volunteer(make, db, team, districts=["KB1"])
    walk = listing(coordinator, "Riverside Walk", "KB1 2AB")
    details = service.SuggestionDetails(kind=service.SuggestionKind.CORRECTION, offer_id=walk.id,
                                        note="New phone", contact_phone="01632 960 002")
    correction = service.suggest(maya, details, actor=maya.user)
    assert walk.contact_phone == ""
    service.approve(correction, actor=coordinator, expected_version=correction.version)
    assert walk.contact_phone == "01632 960 002"
    assert correction.status is SuggestionStatus.APPROVED

    other = service.suggest(maya, details, actor=maya.user)
    with pytest.raises(service.ChampionInvalid, match="Enter why"):
        service.reject(other, " ", actor=coordinator)
    service.reject(other, "Already changed", actor=coordinator)
    assert other.status is SuggestionStatus.REJECTED and other.review_reason == "Already changed"
    with pytest.raises(service.ChampionInvalid, match="Select the listing in your patch"):
        service.suggest(maya, service.SuggestionDetails(
            kind=service.SuggestionKind.CORRECTION, offer_id="not-in-patch", note="x"),
            actor=maya.user)
    audited = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "champion_suggestion")).all()
    assert audited.count("create") == 2 and audited.count("update") == 2


def test_another_teams_coordinator_cannot_review_or_set_patches(client, make, db, team):
    maya = volunteer(make, db, team, districts=["KB1"])
    outsider = make.user(Role.COORDINATOR, team=make.team(), password=PASSWORD)
    suggestion = ChampionSuggestion(team_id=team.id, volunteer_id=maya.id,
                                    kind=service.SuggestionKind.NEW_GROUP, name="X")
    db.session.add(suggestion)
    sign_in(client, db, outsider)
    assert client.get(f"/hub/suggestions/{suggestion.id}").status_code == 404
    assert client.get(f"/hub/champions/{maya.id}").status_code == 404
    assert "Maya" not in client.get("/hub/champions").get_data(as_text=True)

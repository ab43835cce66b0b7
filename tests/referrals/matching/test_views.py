"""The connector's matching screens: suggestions and search, what suits them, one
connection, and connections on the workspace and the referral's timeline."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from referrals.matching import service
from referrals.models import (
    AuditEvent,
    CapacityStatus,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    OfferStatus,
    ReferralStatus,
    Role,
    utcnow,
)
from tests.referrals.intake.conftest import Page
from tests.referrals.matching import test_connections as connections
from tests.referrals.matching.test_connections import Offers

# Fixtures shared with the service tests (a module's fixtures are its attributes).
hub, offers = connections.hub, connections.offers

C = ConnectionStatus
S = ReferralStatus
LONDON = ZoneInfo("Europe/London")


def local_today():
    return utcnow().astimezone(LONDON).date()


def sign_in(client, db, user, password="correct horse battery"):
    db.session.commit()
    response = client.submit("/login", {"email": user.email, "password": password})
    assert response.status_code == 302
    return user


@pytest.fixture
def referral(db, make, hub):
    return make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS,
                         person={"given_name": "Ada", "family_name": "Lovelace"})


@pytest.fixture
def connector(client, db, hub, referral):
    return sign_in(client, db, hub.connector)


def url(referral, tail="") -> str:
    return f"/caseload/referrals/{referral.id}{tail}"


def record_form(offer, **overrides):
    data = {"offer_id": offer.id, "source": "suggestion", "kind": "signpost", "note": ""}
    data.update(overrides)
    return data


def connect(referral, offer, actor, **kwargs):
    kwargs.setdefault("kind", ConnectionKind.SIGNPOST)
    return service.record_connection(referral, offer, actor=actor, today=local_today(),
                                     **kwargs)


def move_form(status="accepted", day=None, **overrides):
    day = day or local_today()
    data = {"status": status, "on_day": str(day.day), "on_month": str(day.month),
            "on_year": str(day.year), "note": ""}
    data.update(overrides)
    return data


# --- suggestions -------------------------------------------------------------------


def test_suggestions_show_the_persons_needs_and_explained_offers_to_record(
        client, db, referral, offers: Offers, connector):
    offers("Kindlebury Befrienders", km_north=0.5)
    offers("Thursday Friends", days="TH", km_north=0.8)
    referral.availability = ["TU-morning"]
    db.session.commit()

    response = client.get(url(referral, "/suggestions"))

    assert response.status_code == 200
    page = Page(response)
    text = page.text()
    assert "Offers for Ada Lovelace" in text
    assert "Loneliness" in text and "Befriending" in text  # reason and its categories
    assert "LS1 4AP" in text and "Tuesday morning" in text
    card = page.by_id("offer-s1")
    assert "Kindlebury Befrienders" in " ".join(card.itertext())
    card_text = " ".join(" ".join(card.itertext()).split())
    assert "Score" in card_text
    assert "0.5 km" in card_text and "Tuesdays 10:00 fits" in card_text
    misfit = " ".join(" ".join(page.by_id("offer-n1").itertext()).split())
    assert "Does not fit: Thursdays only — not a day that suits" in misfit
    assert page.label_for("kind-s1") == ["Signpost (gave them the details)",
                                         "Record Kindlebury Befrienders as"]
    assert page.links()["Change days and times"].endswith("/preferences")
    read = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == referral.id, AuditEvent.action == "read")).all()
    assert read[-1].detail == {"view": "suggestions"}


def test_good_fits_come_first_and_what_does_not_fit_is_folded_with_why(
        client, db, referral, offers: Offers, connector):
    # The best scorers (nearest) do not fit; the good fits are further away.
    offers("Thursday Friends", days="TH", km_north=0.2)
    offers("Full Up Club", km_north=0.3, capacity=CapacityStatus.WAITING_LIST)
    offers("Tuesday Walkers", km_north=2.0)
    offers("Tuesday Tea", km_north=3.0)
    referral.availability = ["TU-morning"]
    db.session.commit()

    page = Page(client.get(url(referral, "/suggestions")))

    def name(anchor):
        card = page.by_id(f"offer-{anchor}")
        return None if card is None else " ".join(card.find(".//h3").itertext())

    assert [name("s1"), name("s2"), name("s3")] == ["Tuesday Walkers", "Tuesday Tea", None]
    [fold] = page.findall(".//details[@id='poor-fits']")
    assert fold.get("open") is None  # folded until asked for
    summary = " ".join(" ".join(fold.find(".//summary").itertext()).split())
    assert summary == ("2 offers that do not fit (waiting list; "
                       "Thursdays only — not a day that suits)")
    folded = [" ".join(h.itertext()) for h in fold.findall(".//h3")]
    assert folded == ["Full Up Club", "Thursday Friends"] == [name("n1"), name("n2")]
    # After everything else that is ranked: the fold is the last suggestion on the page.
    html = page.html
    assert html.index("Tuesday Tea") < html.index('id="poor-fits"') < html.index('id="search"')
    # Still recordable from inside the fold (a keyboard user opens it with Enter).
    assert fold.find(".//form") is not None


def test_recording_a_suggestion_connects_it_and_drops_it_from_the_suggestions(
        client, db, referral, offers: Offers, connector):
    offer = offers("Kindlebury Befrienders")
    db.session.commit()

    response = client.submit(url(referral, "/connections"),
                             record_form(offer, kind="referral", note="Warm handover"),
                             page=url(referral, "/suggestions"))

    assert response.status_code == 302
    assert response.location.endswith("/suggestions#connections")
    [connection] = db.session.scalars(select(Connection)).all()
    assert connection.kind is ConnectionKind.REFERRAL and connection.status is C.SUGGESTED
    assert connection.match_score is not None and "km" in connection.match_explanation
    assert connection.notes == "Warm handover"
    page = Page(client.get(response.location))
    assert "Kindlebury Befrienders recorded as a referral: suggested." in page.text()
    assert page.by_id("offer-s1") is None
    assert "Kindlebury Befrienders" in " ".join(page.find(".//table").itertext())


def test_the_directory_search_finds_offers_the_matcher_left_out_and_records_them(
        client, db, referral, offers: Offers, connector):
    offers("Allotment Volunteers", categories=("gardening-nature",), days="SA")
    db.session.commit()

    page = Page(client.get(url(referral, "/suggestions?q=allotment&day=SA")))
    card = page.by_id("offer-r1")
    assert "Allotment Volunteers" in " ".join(card.itertext())
    hidden = {i.get("name"): i.get("value") for i in card.findall(".//input[@type='hidden']")}
    assert hidden["source"] == "search" and hidden["q"] == "allotment"

    offer_id = hidden["offer_id"]
    response = client.submit(url(referral, "/connections"),
                             {"offer_id": offer_id, "source": "search", "kind": "signpost",
                              "q": "allotment", "day": "SA"},
                             page=url(referral, "/suggestions"))

    assert response.status_code == 302 and "q=allotment" in response.location
    connection = db.session.scalars(select(Connection)).one()
    assert connection.match_score is None


def test_a_refused_record_shows_the_error_next_to_that_offer(
        client, db, referral, offers: Offers, connector):
    offer = offers("Kindlebury Befrienders")
    db.session.commit()

    response = client.submit(url(referral, "/connections"), record_form(offer, kind=""),
                             page=url(referral, "/suggestions"))

    assert response.status_code == 422
    page = Page(response)
    assert page.error_for("kind-s1") == "Select signpost or referral"
    assert page.summary_links() == {"#kind-s1": "Select signpost or referral"}
    assert db.session.scalars(select(Connection)).all() == []


def test_an_inactive_or_unknown_offer_is_refused_without_a_500(
        client, db, referral, offers: Offers, connector):
    closed = offers("Closed Club", status=OfferStatus.INACTIVE)
    db.session.commit()

    for data in (record_form(closed), {"offer_id": "no-such-offer", "kind": "signpost"},
                 {"offer_id": "x" * 500, "kind": "\x00"}, {}):
        response = client.submit(url(referral, "/connections"), data,
                                 page=url(referral, "/suggestions"))
        assert response.status_code == 422, data
        assert "There is a problem" in response.get_data(as_text=True)
    assert db.session.scalars(select(Connection)).all() == []


def test_an_offer_already_connected_shows_as_connected_in_the_search(
        client, db, hub, referral, offers: Offers, connector):
    offer = offers("Kindlebury Befrienders")
    connect(referral, offer, hub.connector)
    db.session.commit()

    page = Page(client.get(url(referral, "/suggestions?q=befrienders")))

    card = " ".join(" ".join(page.by_id("offer-r1").itertext()).split())
    assert "Already connected: Suggested" in card
    assert page.by_id("kind-r1") is None


# --- what suits them -----------------------------------------------------------------


def test_what_suits_them_is_shown_saved_and_used(client, db, referral, connector):
    referral.availability = ["WE-afternoon"]
    referral.max_distance_km = 3.0
    db.session.commit()

    page = Page(client.get(url(referral, "/preferences")))
    assert page.checked("availability") == ["WE-afternoon"]
    assert page.value_of("max_distance_km") == "3"
    assert page.label_for("availability-TU-afternoon") == ["Afternoon", "Tuesday",
                                                   "Days and times that suit them"]

    response = client.submit(url(referral, "/preferences"), {
        "availability": ["TU-morning", "FR-evening"], "prefers_free": "y",
        "max_distance_km": "2.5 km", "access_needs": ["step-free"], "language": "pl"})

    assert response.status_code == 302 and response.location.endswith("/suggestions")
    db.session.refresh(referral)
    assert referral.availability == ["TU-morning", "FR-evening"]
    assert (referral.prefers_free, referral.max_distance_km) == (True, 2.5)
    assert referral.access_needs == ["step-free"] and referral.language == "pl"
    text = Page(client.get(response.location)).text()
    assert "Tuesday morning; Friday evening" in text and "Free offers only" in text
    assert "Up to 2.5 km" in text and "Polish" in text


@pytest.mark.parametrize("distance, message", [
    ("far", "Enter the distance as a number of kilometres, for example 3"),
    ("0", "Enter a distance between 0 and 100 km, or leave it blank"),
    ("nan", "Enter the distance as a number of kilometres"),
])
def test_a_bad_distance_is_shown_next_to_its_field(client, db, referral, connector, distance,
                                                   message):
    response = client.submit(url(referral, "/preferences"),
                             {"max_distance_km": distance, "availability": ["MO-morning"]})

    assert response.status_code == 422
    page = Page(response)
    assert page.error_for("max_distance_km") == message
    assert page.summary_links() == {"#max_distance_km": message}
    assert page.checked("availability") == ["MO-morning"]  # nothing typed is lost
    db.session.refresh(referral)
    assert referral.availability == []


def test_what_suits_them_refuses_tampered_values_without_a_500(client, db, referral,
                                                                connector):
    response = client.submit(url(referral, "/preferences"), {
        "availability": ["XX-dawn", "\x00"], "access_needs": ["jetpack"],
        "language": "<script>", "prefers_free": "\x00", "max_distance_km": "2"})

    assert response.status_code == 422
    page = Page(response)
    assert page.error_for("availability") == "Select days and times from the list"
    assert page.error_for("access_needs") == "Select access needs from the list"
    assert page.error_for("language") == "Select a language from the list"

    response = client.submit(url(referral, "/preferences"), {"max_distance_km": "9" * 12})
    assert Page(response).error_for("max_distance_km") == (
        "Enter the distance as a number of kilometres")


# --- one connection --------------------------------------------------------------------


def test_a_connection_moves_on_through_its_page_to_attended(
        client, db, hub, referral, offers: Offers, connector):
    connection = connect(referral, offers("Kindlebury Walkers"), hub.connector,
                         on=local_today() - timedelta(days=3))
    db.session.commit()
    page_url = url(referral, f"/connections/{connection.id}")

    page = Page(client.get(page_url))
    assert [i.get("value") for i in page.findall(".//input[@name='status']")] == [
        "accepted", "taken_on", "declined", "no_capacity", "withdrawn"]
    assert page.value_of("on_year") == str(local_today().year)
    assert page.label_for("on_day") == ["Day", "Date"]

    response = client.submit(page_url, move_form("accepted", note="Keen to go"))
    assert response.status_code == 302
    assert response.location.endswith(
        f"/caseload/referrals/{referral.id}/suggestions#connections")
    response = client.submit(page_url, move_form("attended"))
    assert response.status_code == 302

    db.session.refresh(connection)
    assert connection.status is C.ATTENDED and connection.started_on == local_today()
    page = Page(client.get(page_url))
    assert page.find(".//form[@method='post']//input[@name='status']") is None
    assert "This connection is attended: that is final." in page.text()
    history = " ".join(page.find(".//table").itertext())
    assert "Suggested" in history and "Accepted" in history and "Keen to go" in history


@pytest.mark.parametrize("form, field, message", [
    (move_form(status=""), "status", "Select what happened"),
    (move_form(status="attended"), "status",
     "A connection that is suggested cannot become attended"),
    (move_form(day=local_today() + timedelta(days=1)), "on_day",
     "The date cannot be in the future"),
    (move_form(on_day="31", on_month="2", on_year="2026"), "on_day",
     "The date must be a real date"),
    (move_form(on_day="", on_month="", on_year=""), "on_day", "Enter the date"),
    (move_form(on_day="x", on_month="\x00", on_year="99999"), "on_day",
     "The date must include a day, month and year in numbers"),
])
def test_a_refused_move_shows_its_error_next_to_the_field(
        client, db, hub, referral, offers: Offers, connector, form, field, message):
    connection = connect(referral, offers(), hub.connector)
    db.session.commit()
    page_url = url(referral, f"/connections/{connection.id}")

    response = client.submit(page_url, form)

    assert response.status_code == 422
    page = Page(response)
    assert page.error_for(field if field != "on_day" else "on") == message \
        or page.error_for(field) == message
    assert f"#{field}" in page.summary_links()
    db.session.refresh(connection)
    assert connection.status is C.SUGGESTED


def test_a_connection_of_another_referral_or_unknown_is_404(
        client, db, make, hub, referral, offers: Offers, connector):
    other = make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS)
    elsewhere = connect(other, offers(), hub.connector)
    db.session.commit()

    assert client.get(url(referral, f"/connections/{elsewhere.id}")).status_code == 404
    assert client.get(url(referral, "/connections/2147483647")).status_code == 404


# --- who may --------------------------------------------------------------------------


def test_the_coordinator_may_record_and_move_a_teams_connections(
        client, db, hub, referral, offers: Offers):
    offer = offers()
    sign_in(client, db, hub.coordinator)

    response = client.submit(url(referral, "/connections"), record_form(offer),
                             page=url(referral, "/suggestions"))

    assert response.status_code == 302
    connection = db.session.scalars(select(Connection)).one()
    assert client.submit(url(referral, f"/connections/{connection.id}"),
                         move_form()).status_code == 302


@pytest.mark.parametrize("who", ["colleague", "other_team_connector"])
def test_another_connectors_referral_is_not_found(client, db, hub, referral, offers: Offers,
                                                  who):
    connection = connect(referral, offers(), hub.connector)
    sign_in(client, db, getattr(hub, who))

    for path in ("/suggestions", "/preferences", f"/connections/{connection.id}"):
        assert client.get(url(referral, path)).status_code == 404, path


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.ADMIN])
def test_practice_staff_and_admins_cannot_use_the_matching_screens(
        client, db, login_as, hub, referral, offers: Offers, role):
    connection = connect(referral, offers(), hub.connector)
    db.session.commit()
    login_as(role, practice=hub.practice) if role is not Role.ADMIN else login_as(role)

    for path in ("/suggestions", "/preferences", f"/connections/{connection.id}"):
        assert client.get(url(referral, path)).status_code == 403, path


def test_a_closed_referrals_connections_can_be_read_but_not_changed(
        client, db, hub, referral, offers: Offers, connector):
    connection = connect(referral, offers(), hub.connector)
    referral.status = S.COMPLETED
    db.session.commit()
    page_url = url(referral, f"/connections/{connection.id}")

    page = Page(client.get(page_url))
    assert page.find(".//input[@name='status']") is None
    assert client.submit(page_url, move_form()).status_code == 302
    assert client.get(url(referral, "/preferences")).status_code == 302
    suggestions = Page(client.get(url(referral, "/suggestions")))
    assert suggestions.find(".//input[@name='kind']") is None
    db.session.refresh(connection)
    assert connection.status is C.SUGGESTED


def test_posts_without_a_csrf_token_change_nothing(client, db, hub, referral,
                                                   offers: Offers, connector):
    offer = offers()
    connection = connect(referral, offers(), hub.connector)
    db.session.commit()
    version = referral.version

    for path, data in [("/connections", record_form(offer)),
                       (f"/connections/{connection.id}", move_form()),
                       ("/preferences", {"prefers_free": "y"})]:
        assert client.post(url(referral, path), data=data).status_code == 400, path
    db.session.refresh(referral)
    assert referral.version == version


# --- the workspace and the timeline -------------------------------------------------------


def test_the_workspace_lists_connections_and_links_to_suggestions(
        client, db, hub, referral, offers: Offers, connector):
    connection = connect(referral, offers("Kindlebury Walkers"), hub.connector)
    service.update_connection(connection, status=C.ACCEPTED, on=local_today(),
                              actor=hub.connector, today=local_today())
    db.session.commit()

    summary = Page(client.get(url(referral))).links()
    assert summary["Find offers for Ada Lovelace"] == url(referral, "/suggestions")
    assert summary["What suits them"] == url(referral, "/preferences")
    assert summary["Offers and connections"] == url(referral, "/suggestions")
    page = Page(client.get(url(referral, "/suggestions")))
    assert page.by_id("connections") is not None
    assert page.links()["Kindlebury Walkers"] == url(referral, f"/connections/{connection.id}")
    text = Page(client.get(url(referral, "/history"))).text()
    assert "Connected to Kindlebury Walkers (signpost): suggested" in text
    assert "Connected to Kindlebury Walkers (signpost): accepted" in text


def test_the_practice_sees_connections_on_its_referral_timeline(
        client, db, login_as, hub, referral, offers: Offers):
    connect(referral, offers("Kindlebury Walkers"), hub.connector, kind=ConnectionKind.REFERRAL)
    db.session.commit()
    login_as(Role.REFERRER, practice=hub.practice)

    response = client.get(f"/referrals/{referral.id}")

    assert response.status_code == 200
    text = Page(response).text()
    assert "Connected to Kindlebury Walkers (referral): suggested" in text
    assert hub.connector.name in text


def test_the_suggestions_page_reads_in_a_fixed_number_of_statements(
        client, db, hub, referral, offers: Offers, connector):
    def statements():
        seen = []
        engine = db.session.get_bind()

        def count(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url(referral, "/suggestions?q=offer")).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    for _ in range(2):
        offers()
    db.session.commit()
    few = statements()
    for _ in range(6):
        offers()
    db.session.commit()
    assert statements() == few


def test_garbage_never_makes_a_500(client, db, hub, referral, offers: Offers, connector):
    connection = connect(referral, offers(), hub.connector)
    db.session.commit()
    junk = {"offer_id": ["a", "b"], "kind": "\x00", "note": "\x00" * 3000, "q": "x" * 900,
            "status": "\x00", "on_day": "\x00", "on_month": "-1", "on_year": "1e9",
            "availability": "\x00", "max_distance_km": "\x00", "language": "\x00"}
    for path in ("/connections", f"/connections/{connection.id}", "/preferences"):
        response = client.submit(url(referral, path), junk, page=url(referral, "/suggestions"))
        assert response.status_code < 500, path
    for query in ("?q=%00&category=\x00&day=XX", "?q=" + "x" * 5000, "?category=nope&day=TU"):
        assert client.get(url(referral, "/suggestions" + query)).status_code < 500, query
    assert client.get("/caseload/referrals/99999999999/suggestions").status_code == 404

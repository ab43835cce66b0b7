"""Matching: hard constraints never broken, closer and better-fitting offers rank higher with
everything else equal, explanations a connector can read, and a deterministic order."""
from __future__ import annotations

import ast
import dataclasses
import itertools
import math
from datetime import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from referrals.directory.vocabulary import ACCESSIBILITY, CATEGORIES, LANGUAGES, WEEKDAY_NAMES
from referrals.geo import haversine_km
from referrals.matching import scoring
from referrals.matching.scoring import (
    FACTORS,
    WEIGHTS,
    Factor,
    Match,
    OfferFacts,
    PersonNeeds,
    Session,
    excluded_reason,
    rank,
)

HOME = (52.2053, 0.1218)
KM_NORTH = 1 / 111.195  # degrees of latitude per km


def offer(offer_id: str = "o1", **changes) -> OfferFacts:
    """An open, active, free, ageless offer at home, on Tuesday mornings, unless changed."""
    fields = {
        "offer_id": offer_id, "name": f"Offer {offer_id}",
        "categories": frozenset({"befriending"}), "places": (HOME,), "is_virtual": False,
        "sessions": (Session("TU", time(10), time(12)),), "is_free": True,
        "minimum_age": None, "maximum_age": None, "accessibility": frozenset(),
        "languages": frozenset(), "capacity": "open", "active": True}
    return OfferFacts(**fields | changes)


def person(**changes) -> PersonNeeds:
    """Someone at home with no preferences, unless changed."""
    fields = {"categories": frozenset({"befriending"}), "home": HOME, "max_distance_km": None,
              "availability": frozenset(), "prefers_free": False, "age": None,
              "access_needs": frozenset(), "language": ""}
    return PersonNeeds(**fields | changes)


def north(km: float) -> tuple[float, float]:
    return (HOME[0] + km * KM_NORTH, HOME[1])


# --- strategies ---------------------------------------------------------------------------

CATEGORY_CODES = [c.code for c in CATEGORIES][:6]  # few, so overlaps happen
ACCESS_CODES = [f.code for f in ACCESSIBILITY][:4]
LANGUAGE_CODES = ["en", "pl", "ur", "cy"]
SLOT_NAMES = [f"{day}-{part}" for day in WEEKDAY_NAMES for part in scoring.SLOTS]
# Around a town mostly, sometimes anywhere on Earth (poles and the antimeridian included).
town_places = st.tuples(st.floats(52.1, 52.3), st.floats(-0.1, 0.35))
world_places = st.tuples(st.floats(-89.9, 89.9), st.floats(-180.0, 180.0))
places = st.one_of(town_places, town_places, world_places)
times = st.one_of(st.none(), st.times().map(lambda t: t.replace(second=0, microsecond=0)))
sessions = st.builds(Session, st.sampled_from(list(WEEKDAY_NAMES)), times, times)
ages = st.one_of(st.none(), st.integers(0, 100))


@st.composite
def offer_facts(draw, offer_id: str = "o", where=places) -> OfferFacts:
    return OfferFacts(
        offer_id=offer_id, name=draw(st.sampled_from(["Walk", "Lunch club", "Choir", "Shed"])),
        categories=draw(st.frozensets(st.sampled_from(CATEGORY_CODES), max_size=3)),
        places=tuple(draw(st.lists(where, max_size=3))), is_virtual=draw(st.booleans()),
        sessions=tuple(draw(st.lists(sessions, max_size=3))), is_free=draw(st.booleans()),
        minimum_age=draw(ages), maximum_age=draw(ages),
        accessibility=draw(st.frozensets(st.sampled_from(ACCESS_CODES))),
        languages=draw(st.frozensets(st.sampled_from(LANGUAGE_CODES), max_size=2)),
        capacity=draw(st.sampled_from(["open", "open", "waiting-list", "full"])),
        active=draw(st.booleans() | st.just(True)))


@st.composite
def offer_lists(draw) -> list[OfferFacts]:
    count = draw(st.integers(0, 12))
    return [draw(offer_facts(offer_id=f"o{i:02d}")) for i in range(count)]


any_home = st.one_of(st.none(), places)
any_max_distance = st.one_of(st.none(), st.floats(0.5, 2000))


def people(home=any_home, max_distance_km=any_max_distance):
    return st.builds(
        PersonNeeds,
        categories=st.frozensets(st.sampled_from(CATEGORY_CODES), max_size=3),
        home=home, max_distance_km=max_distance_km,
        availability=st.frozensets(st.sampled_from(SLOT_NAMES), max_size=6),
        prefers_free=st.booleans(), age=ages,
        access_needs=st.frozensets(st.sampled_from(ACCESS_CODES), max_size=3),
        language=st.sampled_from(["", "en", "pl", "ur"]))


# For "everything else equal": someone in town who will travel across it, and an offer in
# town that no hard constraint could exclude (the town is ~35 km corner to corner).
townsfolk = people(home=town_places, max_distance_km=st.one_of(st.none(), st.floats(60, 500)))
open_offers = offer_facts(where=town_places).map(lambda o: dataclasses.replace(
    o, active=True, capacity="waiting-list" if o.capacity == "waiting-list" else "open",
    minimum_age=None, maximum_age=None))


def breaks_a_hard_constraint(who: PersonNeeds, what: OfferFacts) -> bool:
    """The rules, written out again independently of scoring.py (with referrals.geo)."""
    if not what.active or what.capacity == "full":
        return True
    if who.age is not None and (
            (what.minimum_age is not None and who.age < what.minimum_age)
            or (what.maximum_age is not None and who.age > what.maximum_age)):
        return True
    if who.max_distance_km is None or who.home is None or what.is_virtual or not what.places:
        return False
    nearest = min(haversine_km(*who.home, *place) for place in what.places)
    return nearest > who.max_distance_km


def nearest_km(who: PersonNeeds, what: OfferFacts) -> float:
    return min(haversine_km(*who.home, *place) for place in what.places)


# --- hard constraints ---------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(people(), offer_lists())
def test_no_suggestion_ever_breaks_a_hard_constraint_and_no_other_offer_is_left_out(who, offers):
    if who.max_distance_km is not None and who.home is not None:
        # On the very edge two correct haversines may disagree in the last bit.
        assume(all(abs(nearest_km(who, o) - who.max_distance_km) > 1e-6
                   for o in offers if o.places))

    suggested = {m.offer_id for m in rank(who, offers)}

    assert suggested == {o.offer_id for o in offers if not breaks_a_hard_constraint(who, o)}
    assert suggested == {o.offer_id for o in offers if excluded_reason(who, o) is None}


def test_each_hard_constraint_says_why_it_excludes():
    someone = person(age=40, max_distance_km=5.0)

    assert excluded_reason(someone, offer(active=False)) == "not running at the moment"
    assert excluded_reason(someone, offer(capacity="full")) == "full: not taking anyone new"
    assert excluded_reason(someone, offer(minimum_age=55)) == "for ages 55 and over only"
    assert excluded_reason(someone, offer(maximum_age=25)) == "for ages up to 25 only"
    assert excluded_reason(someone, offer(minimum_age=16, maximum_age=25)) == (
        "for ages 16 to 25 only")
    assert excluded_reason(someone, offer(places=(north(5.2),))) == "more than 5 km away"
    assert excluded_reason(someone, offer(places=(north(400),))) == "more than 5 km away"
    assert excluded_reason(someone, offer(places=(north(4.8),))) is None
    assert excluded_reason(someone, offer(places=(north(9), north(4.8)))) is None
    assert excluded_reason(someone, offer(minimum_age=40, maximum_age=40)) is None


def test_distance_only_excludes_an_offer_that_must_be_reached_in_person():
    someone = person(max_distance_km=2.0)

    assert excluded_reason(someone, offer(places=(north(30),), is_virtual=True)) is None
    assert excluded_reason(someone, offer(places=(), is_virtual=True)) is None
    assert excluded_reason(someone, offer(places=())) is None  # venue not known
    assert excluded_reason(person(home=None, max_distance_km=2.0),
                           offer(places=(north(30),))) is None  # home not known
    assert excluded_reason(person(age=None), offer(minimum_age=55)) is None


def destination(start: tuple[float, float], km: float, bearing: float) -> tuple[float, float]:
    """The point `km` along the great circle from `start` at `bearing` degrees."""
    lat1, lon1, b, d = (math.radians(start[0]), math.radians(start[1]), math.radians(bearing),
                        km / scoring.EARTH_RADIUS_KM)
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b))
    lon2 = lon1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(lat1),
                             math.cos(d) - math.sin(lat1) * math.sin(lat2))
    return math.degrees(lat2), (math.degrees(lon2) + 540) % 360 - 180


@pytest.mark.parametrize("home", [(0.0, 0.0), (52.2, 0.12), (-33.9, 151.2), (70.0, 179.9),
                                  (85.0, -179.99), (-89.0, 10.0)])
@pytest.mark.parametrize("max_km", [0.5, 5.0, 80.0, 1500.0])
def test_the_distance_limit_holds_in_every_direction_anywhere_on_earth(home, max_km):
    someone = person(home=home, max_distance_km=max_km)
    for bearing in range(0, 360, 15):
        inside = offer(places=(destination(home, max_km * 0.999, bearing),))
        outside = offer(places=(destination(home, max_km * 1.001, bearing),))

        assert excluded_reason(someone, inside) is None, bearing
        assert excluded_reason(someone, outside) == f"more than {max_km:g} km away", bearing
        assert [m.offer_id for m in rank(someone, [inside])] == ["o1"], bearing


def test_a_full_or_inactive_offer_is_never_suggested_whatever_else_fits():
    someone = person(prefers_free=True, availability=frozenset({"TU-morning"}))
    offers = [offer("full", capacity="full"), offer("closed", active=False), offer("ok")]

    assert [m.offer_id for m in rank(someone, offers)] == ["ok"]


# --- everything else equal ----------------------------------------------------------------


def suggestable(who: PersonNeeds, *offers: OfferFacts) -> bool:
    return all(excluded_reason(who, o) is None for o in offers)


def position(matches: list[Match], offer_id: str) -> int:
    return [m.offer_id for m in matches].index(offer_id)


def factor(match: Match, name: str) -> Factor:
    [found] = [f for f in match.factors if f.name == name]
    return found


@settings(max_examples=100, deadline=None)
@given(people(home=town_places), open_offers, town_places, town_places)
def test_a_closer_offer_ranks_higher_everything_else_equal(who, base, here, there):
    near = dataclasses.replace(base, offer_id="near", places=(here,))
    far = dataclasses.replace(base, offer_id="far", places=(there,))
    assume(nearest_km(who, near) < nearest_km(who, far) - 1e-6)
    assume(suggestable(who, far))

    matches = rank(who, [far, near])

    assert suggestable(who, near)
    assert position(matches, "near") < position(matches, "far")


@settings(max_examples=100, deadline=None)
@given(townsfolk, open_offers, st.frozensets(st.sampled_from(CATEGORY_CODES), max_size=3))
def test_a_better_category_fit_ranks_higher_everything_else_equal(who, base, other):
    assume(who.categories)
    assume(len(who.categories & other) < min(len(who.categories), 2))
    assert suggestable(who, base)
    fits = dataclasses.replace(base, offer_id="fits", categories=who.categories)
    worse = dataclasses.replace(base, offer_id="worse", categories=other)

    matches = rank(who, [worse, fits])

    assert matches[position(matches, "fits")].score > matches[position(matches, "worse")].score
    assert position(matches, "fits") < position(matches, "worse")


@settings(max_examples=100, deadline=None)
@given(townsfolk, open_offers, st.sampled_from(SLOT_NAMES))
def test_a_schedule_that_fits_ranks_higher_everything_else_equal(who, base, slot):
    day, _, part = slot.partition("-")
    who = dataclasses.replace(who, availability=who.availability | {slot})
    start, _ = scoring.SLOTS[part]
    assert suggestable(who, base)
    fits = dataclasses.replace(base, offer_id="fits", sessions=(
        Session(day, time(start // 60, 30), time(start // 60 + 1)),))
    other_days = [d for d in WEEKDAY_NAMES if not any(s.startswith(d)
                                                      for s in who.availability)]
    assume(other_days)
    misses = dataclasses.replace(base, offer_id="misses", sessions=(
        Session(other_days[0], time(10), time(11)),))

    matches = rank(who, [misses, fits])

    assert position(matches, "fits") < position(matches, "misses")
    assert factor(matches[position(matches, "misses")], "schedule").fits is False


@settings(max_examples=100, deadline=None)
@given(townsfolk, open_offers)
def test_free_ranks_higher_for_someone_who_prefers_free(who, base):
    who = dataclasses.replace(who, prefers_free=True)
    assert suggestable(who, base)
    free = dataclasses.replace(base, offer_id="free", is_free=True)
    paid = dataclasses.replace(base, offer_id="paid", is_free=False)

    matches = rank(who, [paid, free])

    assert position(matches, "free") < position(matches, "paid")


@settings(max_examples=100, deadline=None)
@given(townsfolk, open_offers, st.frozensets(st.sampled_from(ACCESS_CODES), min_size=1))
def test_met_access_needs_rank_higher_everything_else_equal(who, base, needs):
    who = dataclasses.replace(who, access_needs=needs)
    base = dataclasses.replace(base, places=base.places or (HOME,))
    assert suggestable(who, base)
    met = dataclasses.replace(base, offer_id="met", accessibility=base.accessibility | needs)
    unmet = dataclasses.replace(base, offer_id="unmet",
                                accessibility=base.accessibility - {min(needs)})

    matches = rank(who, [unmet, met])

    assert position(matches, "met") < position(matches, "unmet")


@settings(max_examples=100, deadline=None)
@given(townsfolk, open_offers, st.sampled_from(["pl", "ur", "cy"]))
def test_an_offer_in_the_persons_language_ranks_higher(who, base, language):
    who = dataclasses.replace(who, language=language)
    assert suggestable(who, base)
    theirs = dataclasses.replace(base, offer_id="theirs", languages=frozenset({"en", language}))
    english = dataclasses.replace(base, offer_id="english", languages=frozenset())

    matches = rank(who, [english, theirs])

    assert position(matches, "theirs") < position(matches, "english")


@settings(max_examples=100, deadline=None)
@given(townsfolk, open_offers)
def test_a_waiting_list_ranks_lower_than_an_open_offer(who, base):
    assert suggestable(who, base)
    open_ = dataclasses.replace(base, offer_id="open", capacity="open")
    waiting = dataclasses.replace(base, offer_id="waiting", capacity="waiting-list")

    matches = rank(who, [waiting, open_])

    assert position(matches, "open") < position(matches, "waiting")


# --- order, limit, determinism ------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(people(), offer_lists(), st.integers(0, 30), st.randoms(use_true_random=False))
def test_the_order_is_total_deterministic_and_limit_takes_the_top(who, offers, limit, rng):
    everything = rank(who, offers)
    shuffled = list(offers)
    rng.shuffle(shuffled)

    assert rank(who, offers) == everything
    assert rank(who, shuffled) == everything
    assert rank(who, offers, limit=limit) == everything[:limit]
    by_id = {o.offer_id: o for o in offers}
    keys = [(-m.score, nearest_km(who, by_id[m.offer_id])
             if who.home and by_id[m.offer_id].places else math.inf,
             by_id[m.offer_id].name, m.offer_id) for m in everything]
    for earlier, later in itertools.pairwise(keys):
        assert earlier[0] <= later[0]
        if earlier[0] == later[0]:
            assert earlier[1] <= later[1] + 1e-9


@settings(max_examples=100, deadline=None)
@given(people(), offer_lists())
def test_the_score_is_the_factors_points_added_up_and_every_factor_is_known(who, offers):
    for match in rank(who, offers):
        total = sum(f.points for f in match.factors)
        assert match.score == math.floor(total * 10 + 0.5) / 10  # one decimal, halves up
        assert abs(match.score - total) <= 0.05 + 1e-9
        assert [f.name for f in match.factors] == [
            name for name in FACTORS if name in {f.name for f in match.factors}]
        assert all(-WEIGHTS[f.name] <= f.points <= WEIGHTS[f.name] for f in match.factors)
        assert all(f.text or f.fits for f in match.factors)  # a mismatch is always said


def test_a_limit_of_nothing_gives_nothing():
    assert rank(person(), [offer()], limit=0) == []
    assert rank(person(), []) == []


def test_equal_scores_go_nearest_first_then_by_name_then_by_id():
    offers = [offer("b", name="Same", places=(north(0.31),)),
              offer("a", name="Same", places=(north(0.31),)),
              offer("c", name="Aardvark", places=(north(0.31),)),
              offer("d", name="Zebra", places=(north(0.2),))]

    assert [m.offer_id for m in rank(person(), offers)] == ["d", "c", "a", "b"]


# --- worked examples ----------------------------------------------------------------------


def test_the_explanation_reads_as_the_connector_expects():
    someone = person(categories=frozenset({"physical-activity", "gardening-nature"}),
                     availability=frozenset({"TU-morning", "TH-afternoon"}),
                     prefers_free=True, access_needs=frozenset({"step-free"}), age=70)
    walk = offer("walk", categories=frozenset({"physical-activity", "gardening-nature"}),
                 places=(north(2.1),), accessibility=frozenset({"step-free", "parking"}))

    [match] = rank(someone, [walk])

    assert match.explanation == "2.1 km · Tuesdays 10:00 fits · free · step-free access"
    # need 40 + distance 25·e^(-(2.1 - 1)/4) + schedule 15 + cost 10 + access 15
    assert match.score == round(40 + 25 * math.exp(-1.1 / 4) + 15 + 10 + 15, 1) == 99.0
    assert [(f.name, f.fits) for f in match.factors] == [
        ("need", True), ("distance", True), ("schedule", True), ("cost", True),
        ("access", True)]


def test_soft_mismatches_are_said_and_cost_points():
    someone = person(categories=frozenset({"befriending"}), max_distance_km=10.0,
                     availability=frozenset({"MO-morning", "TU-evening"}), prefers_free=True,
                     access_needs=frozenset({"step-free", "hearing-loop"}), language="pl")
    choir = offer("choir", categories=frozenset({"music-singing"}), places=(north(3.46),),
                  sessions=(Session("TH", time(14), time(16)),), is_free=False,
                  accessibility=frozenset({"step-free"}), capacity="waiting-list",
                  minimum_age=18)

    [match] = rank(someone, [choir])

    assert match.explanation == (
        "not for what they were referred for · 3.5 km · Thursdays only — not a day that "
        "suits · has a cost · step-free access, no hearing loop · not in Polish · "
        "waiting list · for ages 18 and over — age not recorded")
    assert [f.name for f in match.factors if not f.fits] == [
        "need", "schedule", "cost", "access", "language", "capacity", "age"]
    assert match.score == round(
        0 + 25 * math.exp(-2.5 / 4) + 0 - 5 + 0 - 15 - 8 - 3, 1)


@pytest.mark.parametrize(("changes", "who", "text"), [
    ({"places": (), "is_virtual": True}, {}, "by phone or online"),
    ({"places": (north(12.04),), "is_virtual": True}, {}, "12.0 km, or by phone or online"),
    ({"places": (north(0.04),)}, {}, "0.0 km"),
    ({}, {"home": None}, "distance unknown"),
    ({"places": ()}, {}, "distance unknown"),
    ({"sessions": ()}, {"availability": frozenset({"TU-morning"})}, "flexible times"),
    ({"sessions": (Session("TU", time(19), time(21)),)},
     {"availability": frozenset({"TU-morning"})}, "Tuesdays 19:00 — not a time that suits"),
    ({"sessions": (Session("MO", time(10), None), Session("FR", time(18), time(20)))},
     {"availability": frozenset({"FR-evening"})}, "Fridays 18:00 fits"),
    ({"sessions": (Session("TH", None, None),)}, {"availability": frozenset({"TH-evening"})},
     "Thursdays fits"),
    ({"sessions": (Session("TH", time(10), None), Session("SA", time(10), None))},
     {"availability": frozenset({"MO-morning"})},
     "Thursdays and Saturdays only — not a day that suits"),
    ({"sessions": (Session("TH", time(10), None), Session("SA", time(10), None))}, {},
     "Thursdays and Saturdays"),
    ({"sessions": (Session("WE", time(9, 30), time(11)),)}, {}, "Wednesdays 09:30"),
    ({"is_free": False}, {}, "has a cost"),
    ({"languages": frozenset({"pl"})}, {"language": "pl"}, "in Polish"),
    ({"languages": frozenset({"pl", "uk"})}, {}, "in Polish and Ukrainian"),
    ({"languages": frozenset({"en", "pl"})}, {"language": "ur"}, "not in Urdu"),
    ({"accessibility": frozenset()}, {"access_needs": frozenset({"hearing-loop"})},
     "no hearing loop"),
    ({"places": ()}, {"access_needs": frozenset({"step-free"})}, "access not known"),
    ({"capacity": "waiting-list"}, {}, "waiting list"),
    ({"maximum_age": 25}, {"age": None}, "for ages up to 25 — age not recorded"),
])
def test_each_factor_explains_itself(changes, who, text):
    [match] = rank(person(**who), [offer(**changes)])

    assert text in match.explanation.split(" · ")


def test_a_need_that_fits_says_nothing_and_one_of_several_scores_less():
    someone = person(categories=frozenset({"befriending", "social-groups", "carers"}))
    both = offer("both", categories=frozenset({"befriending", "social-groups"}))
    one = offer("one", categories=frozenset({"befriending", "money-debt"}))

    first, second = rank(someone, [one, both])

    assert (first.offer_id, second.offer_id) == ("both", "one")
    assert first.factors[0] == Factor("need", 40.0, "", True)
    assert second.factors[0] == Factor("need", 32.0, "", True)


def test_distance_fades_smoothly_from_1_km_to_almost_nothing_at_15_km():
    points = {km: factor(rank(person(), [offer(places=(north(km),))])[0], "distance").points
              for km in (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 40.0)}

    assert points[0.5] == points[1.0] == WEIGHTS["distance"]
    assert points[1.0] > points[2.0] > points[5.0] > points[10.0] > points[15.0] > points[40.0]
    assert points[15.0] < 0.05 * WEIGHTS["distance"]


def test_with_no_availability_recorded_any_time_suits():
    someone = person()
    fixed, flexible = offer("fixed"), offer("flexible", sessions=())

    scores = {m.offer_id: m.score for m in rank(someone, [fixed, flexible])}

    assert scores["fixed"] == scores["flexible"]


def test_unknown_availability_entries_are_ignored():
    someone = person(availability=frozenset({"XX-morning", "TU-brunch"}))

    [match] = rank(someone, [offer()])

    assert match.explanation.split(" · ")[1] == "Tuesdays 10:00"


def test_every_accessibility_feature_and_language_has_words():
    assert set(scoring.ACCESS_WORDS) == {f.code for f in ACCESSIBILITY}
    assert scoring.access_words("ramp") == ("ramp", "no ramp")
    assert scoring.language_name("pl") == LANGUAGES["pl"] == "Polish"


@settings(max_examples=100, deadline=None)
@given(places, st.lists(places, min_size=1, max_size=3))
def test_the_distance_is_referrals_geos_great_circle_distance_to_the_nearest_venue(home, at):
    someone = person(home=home)

    [km] = scoring._Screen(someone).keep([offer(places=tuple(at))])[1]

    assert km == pytest.approx(min(haversine_km(*home, *p) for p in at), abs=1e-6)


@pytest.mark.parametrize("module", ["scoring", "factors", "types"])
def test_scoring_is_pure_no_flask_database_or_models(module):
    path = Path(scoring.__file__).with_name(f"{module}.py")
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}

    assert not {m for m in imported if m.split(".")[0] in ("flask", "sqlalchemy")
                or m.startswith(("referrals.models", "referrals.extensions", "referrals.geo"))}


@settings(max_examples=100, deadline=None)
@given(people(), people(), offer_lists())
def test_what_was_remembered_for_one_person_never_colours_the_next(first, second, offers):
    rank(first, offers)
    remembered = rank(second, offers)
    scoring.clear_caches()

    assert rank(second, offers) == remembered


def test_a_changed_weight_counts_from_the_next_ranking(monkeypatch):
    someone = person(prefers_free=True)
    before = factor(rank(someone, [offer()])[0], "cost").points

    monkeypatch.setitem(WEIGHTS, "cost", 20.0)

    assert (before, factor(rank(someone, [offer()])[0], "cost").points) == (10.0, 20.0)

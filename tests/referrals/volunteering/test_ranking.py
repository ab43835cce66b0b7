"""The volunteer ranking: pure, explained, and honest about who it leaves out."""
from __future__ import annotations

from referrals.volunteering.ranking import RequestFacts, VolunteerFacts, rank

HOME = (53.796, -1.547)


def volunteer(vid, name, *, km=1.0, offers=("lifts",), availability=("mon-morning",),
              travel_km=None, running=0):
    return VolunteerFacts(vid, name, frozenset(offers), (HOME[0] + km / 111.2, HOME[1]),
                          frozenset(availability), travel_km, running)


def lift(when=("mon-morning",)):
    return RequestFacts("lifts", "Lifts", HOME, frozenset(when))


def test_a_volunteer_further_than_they_travel_is_left_out_with_the_distance():
    ranked, excluded = rank(lift(), [volunteer(1, "Near Nat", km=2, travel_km=5),
                                     volunteer(2, "Far Fred", km=8, travel_km=5)])
    assert [r.name for r in ranked] == ["Near Nat"]
    assert [(e.name, e.reason) for e in excluded] == [("Far Fred",
                                                       "8.0 km away: travels up to 5 km")]


def test_a_phone_call_is_not_limited_by_how_far_they_travel():
    call = RequestFacts("befriending_calls", "Befriending phone calls", HOME, frozenset())
    ranked, excluded = rank(call, [volunteer(1, "Far Fred", km=30, travel_km=5,
                                             offers=("befriending_calls",))])
    assert [r.name for r in ranked] == ["Far Fred"] and excluded == []


def test_availability_and_running_matches_order_equally_near_volunteers():
    ranked, _ = rank(lift(("mon-morning", "fri-evening")), [
        volunteer(1, "Busy Bea", availability=("mon-morning", "fri-evening"), running=2),
        volunteer(2, "Free Flo", availability=("mon-morning", "fri-evening")),
        volunteer(3, "Wrong Time Will", availability=("sun-evening",)),
    ])
    assert [r.name for r in ranked] == ["Free Flo", "Busy Bea", "Wrong Time Will"]
    assert "already matched with 2 people" in ranked[1].explanation
    assert "not free at the times asked" in ranked[2].explanation
    assert not next(f for f in ranked[2].factors if f.name == "availability").fits


def test_the_callers_reasons_leave_a_volunteer_out():
    ranked, excluded = rank(lift(), [volunteer(1, "Dee")], left_out={1: "declined this request"})
    assert ranked == [] and excluded[0].reason == "declined this request"

"""Issue 15: coordinators are told of listings nobody has confirmed for six months, in the
app once per listing per crossing (never again each run), and in their digest."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from referrals import scheduler
from referrals.directory import upkeep
from referrals.directory.listing import CHECK_EVERY_DAYS
from referrals.models import DirectoryOrganisation, Notification, Offer, OfferStatus, Role

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def offer(db, name, verified):
    found = Offer(id=f"o-{name}", name=name, status=OfferStatus.ACTIVE, languages=[],
                  last_verified_on=verified,
                  organisation=DirectoryOrganisation(id=f"org-{name}", name=f"{name} Trust"))
    db.session.add(found)
    db.session.flush()
    return found


def notices(db, user):
    return db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == upkeep.KIND)
        .order_by(Notification.id)).all()


def test_each_coordinator_is_told_once_per_listing_that_crosses_six_months(db, make):
    coordinator, other = make.user(Role.COORDINATOR), make.user(Role.COORDINATOR)
    connector = make.user(Role.CONNECTOR)
    stale = offer(db, "Choir", TODAY - timedelta(days=CHECK_EVERY_DAYS))
    offer(db, "Walk", TODAY - timedelta(days=10))
    never = offer(db, "Lunch", None)

    assert upkeep.notify_unverified_listings(now=NOW) == 4
    assert upkeep.notify_unverified_listings(now=NOW + timedelta(days=1)) == 0

    titles = [n.title for n in notices(db, coordinator)]
    assert titles == ["Check Choir: not confirmed for 6 months",
                      "Check Lunch: not confirmed for 6 months"]
    assert [n.url for n in notices(db, other)] == [f"/hub/directory/offers/{stale.id}",
                                                  f"/hub/directory/offers/{never.id}"]
    assert notices(db, connector) == []


def test_a_listing_confirmed_and_lapsing_again_is_a_new_crossing(db, make):
    coordinator = make.user(Role.COORDINATOR)
    stale = offer(db, "Choir", TODAY - timedelta(days=CHECK_EVERY_DAYS + 1))
    assert upkeep.notify_unverified_listings(now=NOW) == 1
    stale.last_verified_on = TODAY
    later = NOW + timedelta(days=CHECK_EVERY_DAYS)
    assert upkeep.notify_unverified_listings(now=later) == 1
    assert len(notices(db, coordinator)) == 2


def test_the_coordinators_digest_counts_the_listings_to_check(db, make):
    coordinator = make.user(Role.COORDINATOR)
    offer(db, "Choir", None)
    offer(db, "Lunch", TODAY - timedelta(days=400))

    assert scheduler.send_digests(now=NOW) == 1
    [digest] = db.session.scalars(select(Notification).where(
        Notification.user_id == coordinator.id, Notification.kind == "digest")).all()
    assert "Listings to check: 2 not confirmed for 6 months" in digest.body
    assert "unverified-listings" in scheduler.JOBS

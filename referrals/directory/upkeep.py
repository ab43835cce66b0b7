"""Listings nobody has confirmed for six months (referrals.directory.listing): every hub
coordinator is told in the app once per listing each time it crosses the line (a
confirmation starts the clock again), and their digest counts them."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referrals import access
from referrals.directory import listing
from referrals.extensions import db
from referrals.models import DeliveryClaim, Offer, User
from referrals.notifications.service import notify
from referrals.workdays import uk_date

KIND = "listing-unverified"
# The coordinator's page for one offer (directory_manage.show_offer): a path, as jobs
# run with no request.
OFFER_URL = "/hub/directory/offers/{}"
_SLICE = 500  # SQLite limits the parameters of one statement


def _key(offer_id: str, verified: date | None, user_id: int) -> str:
    # The crossing is named by the confirmation it lapsed from, so confirming the listing
    # and letting it lapse again is a new crossing, told again.
    return f"unverified:{offer_id}:{verified.isoformat() if verified else 'never'}:{user_id}"


def notify_unverified_listings(*, now: datetime) -> int:
    """Tell each active coordinator, in the app, of each listing not confirmed for six
    months that they have not been told of since it crossed the line. Each notice is
    claimed in the database first (DeliveryClaim), so no run, nor a second scheduler,
    repeats it. Commits; returns how many notices this run added."""
    day = uk_date(now)
    offers = db.session.execute(
        select(Offer.id, Offer.name, Offer.last_verified_on)
        .where(listing.needs_checking_clause(day)).order_by(Offer.name, Offer.id)).all()
    coordinators = list(db.session.scalars(
        select(User).where(access.listing_coordinators()).order_by(User.id)))
    wanted = {_key(o.id, o.last_verified_on, u.id): (o, u) for o in offers for u in coordinators}
    keys = list(wanted)
    told = set()
    for start in range(0, len(keys), _SLICE):
        told.update(db.session.scalars(select(DeliveryClaim.key).where(
            DeliveryClaim.key.in_(keys[start:start + _SLICE]))))
    added = 0
    for key, (offer, user) in wanted.items():
        if key in told:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(DeliveryClaim(key=key, claimed_at=now, claimed_by="listings",
                                             attempts=1, sent_at=now, last_error=""))
                db.session.flush()
        except IntegrityError:  # another scheduler told them meanwhile
            continue
        since = (f"since {offer.last_verified_on:%-d %B %Y}" if offer.last_verified_on
                 else "ever")
        notify(user, KIND, f"Check {offer.name}: not confirmed for 6 months",
               f"Nobody has confirmed the details of {offer.name} {since}. Check them "
               "with the organisation, then mark the offer verified.",
               OFFER_URL.format(offer.id), now=now)
        added += 1
    db.session.commit()
    return added


def digest_lines(day: date) -> dict[int, list[str]]:
    """Each active coordinator's digest line: how many listings need checking (a count,
    so it may go by email)."""
    count = listing.needs_checking_count(today=day)
    if not count:
        return {}
    line = (f"Listings to check: {count} not confirmed for 6 months "
            f"({'it' if count == 1 else 'they'} are on the directory's needs checking list)")
    return {user_id: [line] for user_id in db.session.scalars(
        select(User.id).where(access.listing_coordinators()).order_by(User.id))}

"""The scheduler's reminder of volunteer check-ins due: once a day, to the connector holding
the person's referral, or to the team's coordinators for a request from the phone line (or
a referral nobody holds). Delivered through notifications.delivery, which claims each
message first, so a second scheduler sends nothing twice."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from referrals.extensions import db
from referrals.models import MatchStatus, Referral, User, VolunteerMatch, VolunteerRequest
from referrals.notifications.delivery import Message

# The scheduler's own delivery and its team lookups, so this job behaves as its others do.
from referrals.scheduler import _coordinators, _day, _deliver_all, local_day


def remind_check_ins(*, now: datetime) -> int:
    """Tell whoever works each running match that its check-in is due (or overdue)."""
    day = local_day(now)
    rows = db.session.execute(
        select(VolunteerMatch.id, VolunteerMatch.request_id, VolunteerMatch.next_check_in_on,
               VolunteerRequest.team_id, Referral.connector_id, User.active)
        .join(VolunteerRequest, VolunteerMatch.request_id == VolunteerRequest.id)
        .outerjoin(Referral, VolunteerRequest.referral_id == Referral.id)
        .outerjoin(User, Referral.connector_id == User.id)
        .where(VolunteerMatch.status == MatchStatus.ACCEPTED,
               VolunteerMatch.next_check_in_on <= day)
        .order_by(VolunteerMatch.next_check_in_on, VolunteerMatch.id)).all()
    coordinators = _coordinators({row.team_id for row in rows
                                  if row.connector_id is None or not row.active})
    messages = []
    for row in rows:
        people = ([row.connector_id] if row.connector_id is not None and row.active
                  else coordinators.get(row.team_id, []))
        for user_id in people:
            # Words about the person stay in the app; the email says only that one is due.
            messages.append(Message(
                key=f"volunteer-check-in:{row.id}:{user_id}:{day.isoformat()}",
                user_id=user_id, kind="volunteer-check-in",
                title=f"Volunteer match check-in due {_day(row.next_check_in_on)}",
                body="A volunteer match you look after is due a check-in.",
                url=f"/volunteering/requests/{row.request_id}#match-{row.id}",
                email_body="A volunteer match you look after is due a check-in in Kindly."))
    db.session.commit()
    return _deliver_all(messages, now)


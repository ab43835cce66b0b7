"""What becomes of a volunteer's matches when the volunteer steps back (issue 15).

The volunteers part sends signals.volunteer_stepped_back when a coordinator declines a
volunteer, the renewal job lapses one whose DBS check ran out, or the volunteer takes a
break or leaves; create_app() connects on_volunteer_stepped_back to it. Nothing carries
on silently: every proposed or accepted match is ended or flagged, the hub side (the
referral's connector, else whoever proposed, else the team's coordinators) is told, and
each change is audited on the person's record. Ending keeps the match's whole history.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from referrals import access
from referrals.extensions import db
from referrals.models import MatchStatus, User, Volunteer, VolunteerMatch, VolunteerStatus
from referrals.notifications.service import notify
from referrals.volunteering import service
from referrals.volunteers.service import DBS_EXPIRED


def on_volunteer_stepped_back(volunteer: Volunteer, *, actor: User | None,
                              actor_label: str = "", now: datetime, **_) -> None:
    """Settle the volunteer's running matches by why they stepped back:

    - left, or declined by a coordinator: every proposed and accepted match ends, with
      the reason said and `actor` as who ended it (None: the job);
    - a break, or a lapse (their DBS check needs renewing): proposals end, as they cannot
      be accepted now; accepted matches keep running, because a person should not lose
      their weekly call without a word, but the hub side is told and the match's
      check-in falls due today, so the connector talks to both and ends it (the usual
      end, with its reason) if it cannot go on. Coming back needs nothing undone.
    """
    matches = list(db.session.scalars(
        select(VolunteerMatch).where(VolunteerMatch.volunteer_id == volunteer.id,
                                     VolunteerMatch.status.in_(service.RUNNING))
        .order_by(VolunteerMatch.id)))
    ends_all = volunteer.status in (VolunteerStatus.LEFT, VolunteerStatus.DECLINED)
    for match in matches:
        service.lock_match(match, None)
        if match.status not in service.RUNNING:
            continue  # ended meanwhile: nothing left to settle
        if ends_all or match.status is MatchStatus.PROPOSED:
            _end(match, _why(volunteer), actor, actor_label, now)
        else:
            _flag(match, _why(volunteer), actor, actor_label, now)


def _why(volunteer: Volunteer) -> str:
    """Words for the hub and the match's record: never the volunteer's own reason, which
    is theirs (and the coordinator's, on their record)."""
    name = volunteer.name
    if volunteer.status is VolunteerStatus.LEFT:
        return f"{name} has stopped volunteering with the hub."
    if volunteer.status is VolunteerStatus.DECLINED:
        return f"The hub's coordinator declined {name} as a volunteer."
    if volunteer.status_reason == DBS_EXPIRED:
        return f"{name}'s DBS check needs renewing, so they cannot be matched for now."
    return f"{name} is taking a break from volunteering."


def _end(match: VolunteerMatch, why: str, actor: User | None, actor_label: str,
         now: datetime) -> None:
    service.close_match(match, reason=why, ended_by=actor, now=now)
    _tell(match, f"Match ended: {match.volunteer.name} and "
                 f"{service.first_name(match.request)}", why, now)
    service.audit_request(match.request, "volunteer-match-ended", actor, match_id=match.id,
                          by=actor_label or None, volunteer_status=match.volunteer.status.value)


def _flag(match: VolunteerMatch, why: str, actor: User | None, actor_label: str,
          now: datetime) -> None:
    today = service.local_day(now)
    if match.next_check_in_on is None or match.next_check_in_on > today:
        match.next_check_in_on = today
        match.version += 1
        db.session.flush()
    _tell(match, f"Check in on {match.volunteer.name}'s match with "
                 f"{service.first_name(match.request)}",
          f"{why} The match is still running: check in with them both, and end it if it "
          "cannot go on.", now)
    service.audit_request(match.request, "volunteer-match-flagged", actor, match_id=match.id,
                          by=actor_label or None, volunteer_status=match.volunteer.status.value)


def _tell(match: VolunteerMatch, title: str, body: str, now: datetime) -> None:
    people = service.hub_side(match) or list(db.session.scalars(
        select(User).where(access.team_coordinators([match.request.team_id]))))
    # A plain path: the renewal job has no request to build a URL from.
    link = f"/volunteering/requests/{match.request_id}#match-{match.id}"
    for user in people:
        notify(user, "volunteer-match-ended" if match.status is MatchStatus.ENDED
               else "volunteer-match-check-in", title, body, link, now=now)

"""Reminders and escalations, run by APScheduler.

Production runs exactly one `flask --app wsgi scheduler` process (BlockingScheduler);
`make run` may start it inside the web process instead (SCHEDULER = "in-process",
BackgroundScheduler). Every job takes an explicit `now` so tests freeze the clock,
and delivers through `notifications.delivery`, which claims each message in the
database first: a second scheduler on the same database is safe and sends nothing twice.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from sqlalchemy import Select, select

from referrals import access, jobs, sharing
from referrals.extensions import db
from referrals.models import (
    OPEN_STATUSES,
    DeliveryClaim,
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralStatus,
    Team,
    User,
    utcnow,
)
from referrals.notifications.delivery import Message, deliver

log = logging.getLogger(__name__)

# Before first contact the clock is still running; later statuses have stopped it.
AWAITING_FIRST_CONTACT = (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED)


def local_day(now: datetime) -> date:
    """The service's calendar day at `now` (days roll over at local midnight)."""
    return now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


# Links open the hub's own screens (caseload.workspace, caseload.my_caseload). Paths,
# not url_for(): jobs run with no request, and the web app may be on another host.
CASELOAD_URL = "/caseload"


def _referral_url(referral_id: int) -> str:
    return f"{CASELOAD_URL}/referrals/{referral_id}"


def _day(value: date) -> str:
    return value.strftime("%-d %b %Y")


# --- the jobs ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    """One line of a digest: coded facts, plus the follow-up's purpose for the hub."""

    reference: str
    what: str  # "phone follow-up", "first contact"
    due: date | None = None  # None when it is due today
    purpose: str = ""

    def line(self, share: sharing.Policy) -> str:
        purpose = share.words(FollowUp.purpose, self.purpose)
        text = f"{self.reference}: {self.what}" + (f" ({purpose})" if purpose else "")
        return text + (f", due {_day(self.due)}" if self.due else "")


def send_digests(*, now: datetime) -> int:
    """Each connector's digest: follow-ups due today, and overdue follow-ups and first contacts.

    Connectors with nothing due get nothing. The in-app digest names each follow-up's
    purpose; the email says only what is due (references, counts, dates) and links to
    the caseload behind sign-in. Returns how many digests this run delivered.
    """
    day = local_day(now)
    due_today: dict[int, list[_Due]] = defaultdict(list)
    overdue: dict[int, list[_Due]] = defaultdict(list)
    follow_ups = db.session.execute(
        select(Referral.connector_id, Referral.reference, FollowUp.due_on, FollowUp.method,
               FollowUp.purpose)
        .join(Referral, FollowUp.referral_id == Referral.id)
        .join(User, Referral.connector_id == User.id)
        .where(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.due_on <= day,
               Referral.status.in_(OPEN_STATUSES), User.active.is_(True))
        .order_by(FollowUp.due_on, Referral.reference)
    )
    for connector_id, reference, due_on, method, purpose in follow_ups:
        what = f"{method.label.lower()} follow-up"
        if due_on == day:
            due_today[connector_id].append(_Due(reference, what, purpose=purpose))
        else:
            overdue[connector_id].append(_Due(reference, what, due_on, purpose))
    first_contacts = db.session.execute(
        select(Referral.connector_id, Referral.reference, Referral.first_contact_due)
        .join(User, Referral.connector_id == User.id)
        .where(Referral.status.in_(AWAITING_FIRST_CONTACT), Referral.first_contact_at.is_(None),
               Referral.first_contact_due < day, User.active.is_(True))
        .order_by(Referral.first_contact_due, Referral.reference)
    )
    for connector_id, reference, due in first_contacts:
        overdue[connector_id].append(_Due(reference, "first contact", due))
    extra: dict[int, list[str]] = defaultdict(list)
    for section in DIGEST_SECTIONS:
        for user_id, lines in section(day).items():
            extra[user_id].extend(lines)
    messages = [
        _digest(connector_id, day, due_today[connector_id], overdue[connector_id],
                extra[connector_id])
        for connector_id in sorted(set(due_today) | set(overdue) | set(extra))
    ]
    db.session.commit()  # end the read before claiming (SQLite: no lock held while waiting)
    return _deliver_all(messages, now)


def _digest(connector_id: int, day: date, today: list[_Due], late: list[_Due],
            extra: list[str] = ()) -> Message:
    def body(share: sharing.Policy) -> str:
        sections = []
        if today:
            sections.append("Due today:\n" + "\n".join(f"- {d.line(share)}" for d in today))
        if late:
            sections.append("Overdue:\n" + "\n".join(f"- {d.line(share)}" for d in late))
        sections.extend(extra)
        return "\n\n".join(sections)

    return Message(
        key=f"digest:{connector_id}:{day.isoformat()}",
        user_id=connector_id,
        kind="digest",
        title=(f"Your day, {_day(day)}: {len(today)} due today, {len(late)} overdue"
               if today or late or not extra else f"Your day, {_day(day)}: things to check"),
        body=body(sharing.HUB),
        url=CASELOAD_URL,
        email_body=body(sharing.EMAIL),
    )


def overdue_first_contacts(day: date) -> Select:
    """Referrals still waiting for a first contact due before `day`, oldest deadline first
    (ix_referral_first_contact_due holds only referrals with no first contact)."""
    return (
        select(Referral.id, Referral.reference, Referral.team_id, Referral.first_contact_due,
               User.name)
        .outerjoin(User, Referral.connector_id == User.id)
        .where(Referral.status.in_(AWAITING_FIRST_CONTACT), Referral.first_contact_at.is_(None),
               Referral.first_contact_due < day, Referral.team_id.is_not(None))
        .order_by(Referral.first_contact_due, Referral.id)
    )


def escalate_first_contacts(*, now: datetime) -> int:
    """Tell the team's coordinators, once a day, of referrals past their first-contact deadline.

    First contact is due by the end of `first_contact_due`, so escalation starts the
    day after. Returns how many escalations this run delivered.
    """
    day = local_day(now)
    late = db.session.execute(overdue_first_contacts(day)).all()
    coordinators = _coordinators({row.team_id for row in late})
    messages = [
        Message(
            key=f"first-contact:{row.id}:{coordinator_id}:{day.isoformat()}",
            user_id=coordinator_id,
            kind="first-contact-overdue",
            title=f"{row.reference}: first contact overdue",
            body=(f"First contact with the person referred in {row.reference} was due by "
                  f"{_day(row.first_contact_due)} and has not been made. "
                  + (f"Connector: {row.name}." if row.name else "No connector is assigned.")),
            url=_referral_url(row.id),
            # Email names no one.
            email_body=(f"First contact for {row.reference} was due by "
                        f"{_day(row.first_contact_due)} and has not been made."),
        )
        for row in late
        for coordinator_id in coordinators.get(row.team_id, [])
    ]
    db.session.commit()
    return _deliver_all(messages, now)


def escalate_overdue_follow_ups(*, now: datetime) -> int:
    """Tell the coordinators, once a day, of follow-ups overdue by more than the team's grace days.

    A follow-up due on the 1st with 2 grace days is escalated from the 4th.
    Returns how many escalations this run delivered.
    """
    day = local_day(now)
    rows = db.session.execute(
        select(FollowUp.id, FollowUp.due_on, Referral.id.label("referral_id"),
               Referral.reference, Referral.team_id, Team.follow_up_grace_days, User.name)
        .join(Referral, FollowUp.referral_id == Referral.id)
        .join(Team, Referral.team_id == Team.id)
        .outerjoin(User, Referral.connector_id == User.id)
        .where(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.due_on < day,
               Referral.status.in_(OPEN_STATUSES))
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    late = [row for row in rows if (day - row.due_on).days > row.follow_up_grace_days]
    coordinators = _coordinators({row.team_id for row in late})
    messages = [
        Message(
            key=f"follow-up:{row.id}:{coordinator_id}:{day.isoformat()}",
            user_id=coordinator_id,
            kind="follow-up-overdue",
            title=f"{row.reference}: follow-up {(day - row.due_on).days} days overdue",
            body=(f"A follow-up on {row.reference} was due on {_day(row.due_on)} and is "
                  "still not done. " + (f"Connector: {row.name}." if row.name else "")).strip(),
            url=_referral_url(row.referral_id),
            email_body=(f"A follow-up on {row.reference} was due on {_day(row.due_on)} and is "
                        "still not done."),
        )
        for row in late
        for coordinator_id in coordinators.get(row.team_id, [])
    ]
    db.session.commit()
    return _deliver_all(messages, now)


def _deliver_all(messages: list[Message], now: datetime) -> int:
    """Deliver each message, its claim stamped with the time it is really made.

    The job's `now` fixes the day (and tests freeze it); the elapsed time is added
    so that in a long run a claim's age, which decides when another scheduler may
    take it over, counts from its own claim, not from the start of the run.
    """
    # Runs repeat every 15 minutes; one read skips what an earlier run already sent,
    # instead of a failed claim, a rollback and a takeover attempt for each.
    sent = set(db.session.scalars(
        select(DeliveryClaim.key).where(DeliveryClaim.key.in_([m.key for m in messages]),
                                        DeliveryClaim.sent_at.is_not(None))
    )) if messages else set()
    db.session.commit()
    started = time.monotonic()
    return sum(deliver(message, now=now + timedelta(seconds=time.monotonic() - started))
               for message in messages if message.key not in sent)


def _coordinators(team_ids: set[int]) -> dict[int, list[int]]:
    if not team_ids:
        return {}
    found: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in db.session.execute(
        select(User.id, User.team_id)
        .where(access.team_coordinators(team_ids))
        .order_by(User.id)
    ):
        found[team_id].append(user_id)
    return found


# Lines other parts of the hub add to a user's digest: each gives, for the day,
# {user_id: [lines]}. A line may go by email, so it holds counts, never a person.
DIGEST_SECTIONS: list[Callable[[date], dict[int, list[str]]]] = []

JOBS = {
    "digest": send_digests,
    "first-contact": escalate_first_contacts,
    "follow-up": escalate_overdue_follow_ups,
}


# When each job registered from outside the domain runs (CronTrigger fields).
REGISTERED_TRIGGERS: dict[str, dict] = {}


def register(name: str, job, **cron_fields) -> None:
    """Add a job that lives outside the domain (the monthly reports, wired by create_app),
    run by `run_all` and by the scheduler on the CronTrigger `cron_fields`."""
    JOBS[name] = job
    REGISTERED_TRIGGERS[name] = cron_fields


def run_all(*, now: datetime) -> dict[str, int]:
    """Run every job once at `now`; returns how many messages each delivered."""
    return {name: job(now=now) for name, job in JOBS.items()}


# --- wiring ------------------------------------------------------------------------


def build(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler, *,
          catch_up: bool | None = None, now: datetime | None = None) -> BaseScheduler:
    """A scheduler with Kindly's jobs. Runs repeat through the day: the claims make
    a repeat harmless, and a later run retries a delivery that failed.

    With `catch_up` (SCHEDULER_CATCH_UP, on outside tests) each job also runs as soon
    as the scheduler starts, so a restart or a late start never skips a day's
    escalations; the digest catches up only once its hour has come.
    """
    tz = ZoneInfo(app.config["TIMEZONE"])
    hour = int(app.config["DIGEST_HOUR"])
    if catch_up is None:
        catch_up = bool(app.config.get("SCHEDULER_CATCH_UP", True))
    started = (now or datetime.now(tz)).astimezone(tz)
    scheduler = scheduler_class(timezone=tz)
    triggers = {
        "digest": CronTrigger(hour=f"{hour}-{min(hour + 2, 23)}", minute="*/15", timezone=tz),
        "first-contact": CronTrigger(hour="8-18", minute="*/15", timezone=tz),
        "follow-up": CronTrigger(hour="8-18", minute="5-59/15", timezone=tz),
        **{name: CronTrigger(timezone=tz, **fields)
           for name, fields in REGISTERED_TRIGGERS.items()},
    }
    for name, trigger in triggers.items():
        first_run = {}
        if catch_up and (name != "digest" or started.hour >= hour):
            first_run["next_run_time"] = started
        scheduler.add_job(_run_in_app, trigger, args=(app, name), id=name, name=name,
                          max_instances=1, coalesce=True, misfire_grace_time=600, **first_run)
    # The sweep: jobs whose first run failed (retries) or whose process died meanwhile.
    scheduler.add_job(_sweep_jobs, IntervalTrigger(minutes=1, timezone=tz), args=(app,),
                      id="jobs", name="jobs", max_instances=1, coalesce=True,
                      **({"next_run_time": started} if catch_up else {}))
    return scheduler


def _sweep_jobs(app: Flask) -> None:
    with app.app_context():
        try:
            while jobs.run_due():
                pass
        except Exception:
            log.exception("The job sweep failed; the next sweep retries")
            db.session.rollback()
        finally:
            db.session.remove()


def _run_in_app(app: Flask, name: str) -> None:
    with app.app_context():
        try:
            count = JOBS[name](now=utcnow())
            log.info("Job %s delivered %d message(s)", name, count)
        except Exception:
            log.exception("Job %s failed; its next run picks up where it stopped", name)
            db.session.rollback()
        finally:
            db.session.remove()


def start_in_process(app: Flask) -> BackgroundScheduler:
    """Start the jobs on a background thread of this (single) web process: `make run`."""
    scheduler = build(app, BackgroundScheduler)
    scheduler.start()
    return scheduler


# --- issue 15 (partners): listings nobody has confirmed for six months -------------------
from referrals.directory import upkeep

DIGEST_SECTIONS.append(upkeep.digest_lines)
register("unverified-listings", upkeep.notify_unverified_listings, hour="8", minute="20")

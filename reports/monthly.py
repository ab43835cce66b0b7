"""Each practice's monthly report: made on the first working day of the month for the
month before, stored once, listed for its manager, and emailed (a link, never the PDF)
to each manager who asked.

The scheduler's "monthly-reports" run enqueues one job per practice (referrals.jobs),
keyed by practice and month, so a second run, a second scheduler or a restart adds
nothing; StoredReport's unique (practice, kind, period_start) is the last word. Each job
reads the report's data, renders its PDF with no transaction open, and stores it; then
each opted-in manager gets a job of their own, keyed by report and person, that delivers
through referrals.notifications.delivery (claimed in the database: exactly once).

Runs on or after the first working day, not only on it: a scheduler that was down that
day catches up the next time it runs, and the keys make every later run harmless.
"""
from __future__ import annotations

import functools
import hashlib
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referrals import access, audit, jobs
from referrals.extensions import db
from referrals.models import DeliveryClaim, Practice, StoredReport, User, utcnow
from referrals.notifications.delivery import Message, deliver
from referrals.scheduler import local_day
from referrals.scopes import Period, Scope, ScopeKind
from referrals.workdays import is_working_day

KIND = "monthly-report"
EMAIL_KIND = "report-email"
STORED_KIND = "monthly"
# Paths, not url_for(): jobs run with no request (as in referrals.scheduler).
LIST_URL = "/reports/monthly"


def period_renderer():
    """What builds and prints a period report: `build(scope, period)` and
    `render_pdf(data) -> bytes`. Loaded only when a report is made (WeasyPrint);
    tests put a small renderer of their own here."""
    from reports import period_report

    return period_report


RENDERER = period_renderer


# --- when ---------------------------------------------------------------------------


def first_working_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_period(day: date) -> Period | None:
    """The month whose reports are due on `day`: the previous month, from the first
    working day of this one; None before it (1 January, a bank holiday, and the
    weekend after it)."""
    if day < first_working_day(day.year, day.month):
        return None
    return Period.previous_month(day)


# --- the scheduler's run --------------------------------------------------------------


def enqueue_monthly_reports(*, now: datetime) -> int:
    """Add a job for each practice's report for the month just gone, when it is due and
    not already asked for. Returns how many jobs this run added. Commits."""
    if not current_app.config.get("MONTHLY_REPORTS"):
        return 0
    period = due_period(local_day(now))
    if period is None:
        return 0
    added = enqueue_for(period, now=now)
    db.session.commit()
    return added


def enqueue_for(period: Period, *, now: datetime) -> int:
    """A job for each practice's report for `period`, unless already asked for (seed-demo
    uses it for last month's, so the managers' list is not empty). Flushes; the caller
    commits."""
    practice_ids = db.session.scalars(select(Practice.id).order_by(Practice.id)).all()
    return sum(
        jobs.enqueue(KIND, _key(practice_id, period),
                     {"practice_id": practice_id, "start": period.start.isoformat(),
                      "end": period.end.isoformat()}, now=now) is not None
        for practice_id in practice_ids)


def enqueue_for_demo(now: datetime) -> int:
    """seed-demo's: last month's reports, so the managers' "Monthly reports" page has one
    to open; none where the scheduler's reports are off or PDFs cannot be made here."""
    from reports import readiness

    if not current_app.config.get("MONTHLY_REPORTS") or readiness.pdf_unavailable():
        return 0
    return enqueue_for(Period.previous_month(local_day(now)), now=now)


def _key(practice_id: int, period: Period) -> str:
    return f"monthly-report:{practice_id}:{period.start.isoformat()}"


def _stored(practice_id: int, start: date) -> StoredReport | None:
    return db.session.scalars(select(StoredReport).where(
        StoredReport.practice_id == practice_id, StoredReport.kind == STORED_KIND,
        StoredReport.period_start == start)).first()


# --- the report job's two halves --------------------------------------------------------


def prepare(payload: dict):
    """Read the practice's figures for the month; return the rendering (no database)."""
    start, end = date.fromisoformat(payload["start"]), date.fromisoformat(payload["end"])
    if _stored(payload["practice_id"], start) is not None:
        return None  # stored by an earlier run
    practice = db.session.get(Practice, payload["practice_id"])
    renderer = RENDERER()
    data = renderer.build(Scope(ScopeKind.PRACTICE, practice.name, (practice.id,)),
                          Period(start, end))
    return functools.partial(renderer.render_pdf, data)


def store(payload: dict, pdf: bytes | None) -> None:
    """Store the PDF, once; then one email job per manager who asked for them."""
    if pdf is None:
        return
    report = store_report(payload["practice_id"],
                          Period(date.fromisoformat(payload["start"]),
                                 date.fromisoformat(payload["end"])), pdf)
    if report is None:
        return
    for user_id in db.session.scalars(
            select(User.id).where(access.report_email_recipients(report.practice_id))
            .order_by(User.id)):
        jobs.enqueue(EMAIL_KIND, f"report-email:{report.id}:{user_id}",
                     {"report_id": report.id, "user_id": user_id})


def store_report(practice_id: int, period: Period, pdf: bytes, *,
                 now: datetime | None = None) -> StoredReport | None:
    """Store a practice's monthly PDF; None when that month's is already stored (the
    unique constraint decides a race). Audits and flushes; the caller commits."""
    from reports.pdf import page_count

    report = StoredReport(practice_id=practice_id, kind=STORED_KIND, period_start=period.start,
                          period_end=period.end, created_at=now or utcnow(),
                          sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf),
                          pages=page_count(pdf), pdf=pdf)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        return None
    audit.record("create", actor=None, actor_label="scheduler", entity_type="stored-report",
                 entity_id=report.id,
                 detail={"practice_id": practice_id, "period_start": period.start.isoformat(),
                         "sha256": report.sha256})
    db.session.flush()
    return report


# --- the email job --------------------------------------------------------------------


def prepare_email(payload: dict):
    """The message for one manager, if they still want it; delivered after this read."""
    report = db.session.get(StoredReport, payload["report_id"])
    user = db.session.get(User, payload["user_id"])
    if report is None or user is None or not access.receives_report_emails(
            user, report.practice_id):
        return None
    period = Period(report.period_start, report.period_end)
    month = f"{period.start:%B %Y}"
    text = (f"The monthly report for {report.practice.name}, {month}, is ready. "
            "Sign in to read it under Monthly reports.")
    message = Message(key=f"report-email:{report.id}:{user.id}", user_id=user.id,
                      kind="monthly-report", title=f"Monthly report for {month} is ready",
                      body=text, url=LIST_URL, email_body=text)
    return functools.partial(_deliver, message)


def _deliver(message: Message) -> Message:
    # deliver() claims the key in the database before sending: exactly once, however
    # often this job runs. A send that failed leaves the claim unsent: fail the job so
    # it is retried.
    if not deliver(message, now=utcnow()) and not _sent(message.key):
        raise RuntimeError(f"report email {message.key} not sent yet")
    return message


def _sent(key: str) -> bool:
    sent = db.session.scalar(select(DeliveryClaim.sent_at).where(DeliveryClaim.key == key))
    db.session.rollback()
    return sent is not None


def store_email(payload: dict, _message) -> None:
    """Nothing to store: the delivery claim and the notification record it."""


def register_jobs() -> None:
    jobs.register(KIND, prepare=prepare, store=store)
    jobs.register(EMAIL_KIND, prepare=prepare_email, store=store_email)


# --- managers' pages -------------------------------------------------------------------


def set_report_emails(user: User, wanted: bool, *, actor: User) -> bool:
    """Turn `user`'s monthly report emails on or off. Returns whether it changed.
    Audits and flushes; the caller commits."""
    if user.report_emails == wanted:
        return False
    user.report_emails = wanted
    audit.record("change", actor=actor, entity_type="user", entity_id=user.id,
                 detail={"report_emails": wanted})
    db.session.flush()
    return True

"""`flask --app wsgi scheduler --once` started twice at once, as two real OS processes on
one database (a SQLite file, or PostgreSQL) and one SMTP server: everything due today is
delivered exactly once, in-app and by email, and the counts the two runs print add up.

The command runs every job at the real current time (utcnow()), so the work is seeded
relative to today's UK date. `--once` runs all three jobs whatever the hour: the 8-18
window belongs to the APScheduler triggers only.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from referrals import scheduler
from referrals.config import PROJECT_ROOT
from referrals.extensions import db
from referrals.models import DeliveryClaim, utcnow
from referrals.workdays import uk_date
from tests.referrals.notifications.conftest import (
    MAIL_FROM,
    SEEDED_DELIVERIES,
    delivered,
    seed,
)

# The console script installed beside the interpreter running the tests (.venv/bin/flask).
FLASK = Path(sys.executable).with_name("flask")
SCHEDULER_ONCE = [str(FLASK), "--app", "wsgi", "scheduler", "--once"]
REPORT_LINE = re.compile(r"^(?P<job>[\w-]+): (?P<count>\d+) delivered$", re.MULTILINE)
# A slowish SMTP server keeps each run sending for a while, so the two runs overlap
# although each process takes a second or two to start; they share the work between
# them, claim by claim.
SMTP_DELAY_SECONDS = 0.02
TIMEOUT_SECONDS = 60


def scheduler_environment(database_url: str, smtp_port: int) -> dict[str, str]:
    """A production process's environment: our settings only, none inherited."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("KINDLY_", "FLASK_"))
           and name not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(
        KINDLY_ENV="production",
        SECRET_KEY="not-a-secret-test-only",
        DATABASE_URL=database_url,
        KINDLY_SMTP_HOST="127.0.0.1",
        KINDLY_SMTP_PORT=str(smtp_port),
        KINDLY_SMTP_STARTTLS="false",  # read as JSON: false
        KINDLY_MAIL_FROM=MAIL_FROM,
        # Reminders are what is counted here; monthly reports are tests/reports/test_monthly.py.
        KINDLY_MONTHLY_REPORTS="false",
    )
    return env


def run_together(count: int, env: dict[str, str]) -> list[subprocess.CompletedProcess]:
    """Start `count` scheduler processes back to back, then wait for them all."""
    processes = [
        subprocess.Popen(SCHEDULER_ONCE, cwd=PROJECT_ROOT, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(count)
    ]
    try:
        results = []
        for process in processes:
            out, err = process.communicate(timeout=TIMEOUT_SECONDS)
            results.append(subprocess.CompletedProcess(process.args, process.returncode,
                                                       out, err))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()


def reported(result: subprocess.CompletedProcess) -> dict[str, int]:
    """The "<job>: <n> delivered" lines a run printed."""
    return {m["job"]: int(m["count"]) for m in REPORT_LINE.finditer(result.stdout)}


def test_two_scheduler_processes_started_together_deliver_everything_exactly_once(
        make_scheduler_app, shared_database, smtp_server):
    inbox, port = smtp_server
    inbox.delay = SMTP_DELAY_SECONDS
    assert FLASK.exists(), FLASK
    app = make_scheduler_app()  # migrates the shared database
    seed(app, today=uk_date(utcnow()))

    results = run_together(2, scheduler_environment(shared_database, port))

    for result in results:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert set(reported(result)) == set(scheduler.JOBS), result.stdout
    rows, emails = delivered(app)
    assert rows and all(count == 1 for _, _, count in rows), rows
    assert len(rows) == SEEDED_DELIVERIES
    assert sum(sum(reported(r).values()) for r in results) == len(rows)
    received = Counter((m["To"], m["Subject"]) for m in inbox.messages)
    assert received == Counter({(emails[user_id], title): 1 for user_id, title, _ in rows})
    assert all(m["From"] == MAIL_FROM for m in inbox.messages)
    with app.app_context():
        claims = db.session.scalars(select(DeliveryClaim)).all()
        assert len(claims) == len(rows)
        assert all(c.sent_at is not None and c.attempts == 1 for c in claims)
        db.session.remove()

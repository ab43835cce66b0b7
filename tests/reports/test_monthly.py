"""The monthly report: made on the first working day for the month before, stored once per
practice, listed and downloaded by whom access allows, emailed once to each manager who
asked (a link only)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from referrals import jobs
from referrals.models import (
    AuditEvent,
    Job,
    Notification,
    Practice,
    Role,
    StoredReport,
    utcnow,
)
from referrals.notifications import mail
from referrals.scopes import Period
from reports import monthly
from reports.pdf import render_pdf
from tests.reports.conftest import pdftotext
from tests.reports.exports_world import build_world

FIRST_WORKING_DAY_2027 = datetime(2027, 1, 4, 9, tzinfo=UTC)  # 1 Jan bank holiday, then a weekend
DECEMBER = Period(date(2026, 12, 1), date(2026, 12, 31))


@pytest.fixture(autouse=True)
def monthly_reports_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "MONTHLY_REPORTS", True)


@pytest.fixture
def renderer(monkeypatch):
    """A real, small PDF naming the scope and period, in place of the period report (built
    on another branch); records what it was asked to build."""
    built = []

    def build(scope, period):
        built.append((scope, period))
        return scope, period

    def render(data):
        scope, period = data
        return render_pdf(f"<h1>{scope.label}</h1><p>Report for {period.label}</p>")

    monkeypatch.setattr(monthly, "RENDERER", lambda: SimpleNamespace(build=build,
                                                                     render_pdf=render))
    return built


@pytest.fixture
def emails(app, monkeypatch):
    outbox = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.test.example")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://kindly.test")
    monkeypatch.setattr(mail, "send_email", lambda config, **message: outbox.append(message))
    return outbox


@pytest.fixture
def world(db, make):
    built = build_world(make)
    db.session.commit()  # jobs end and begin their own transactions
    return built


def run_month(db, now=FIRST_WORKING_DAY_2027) -> tuple[int, int]:
    added = monthly.enqueue_monthly_reports(now=now)
    done = jobs.run_due(now=now, limit=100)
    return added, done


def stored(db, practice) -> list[StoredReport]:
    return db.session.scalars(select(StoredReport).where(
        StoredReport.practice_id == practice.id)).all()


# --- when -------------------------------------------------------------------------------


@pytest.mark.parametrize("year, month, first", [
    (2027, 1, date(2027, 1, 4)),  # Fri 1 Jan is New Year's Day, then Sat and Sun
    (2026, 12, date(2026, 12, 1)),  # a Tuesday
    (2026, 8, date(2026, 8, 3)),  # Sat 1 August
    (2026, 5, date(2026, 5, 1)),  # a Friday; the May bank holiday is Monday the 4th
])
def test_the_first_working_day(year, month, first):
    assert monthly.first_working_day(year, month) == first


def test_reports_are_due_from_the_first_working_day_for_the_month_before():
    assert monthly.due_period(date(2027, 1, 1)) is None
    assert monthly.due_period(date(2027, 1, 3)) is None
    assert monthly.due_period(date(2027, 1, 4)) == DECEMBER
    assert monthly.due_period(date(2027, 1, 20)) == DECEMBER  # a late scheduler catches up


def test_nothing_is_made_when_monthly_reports_are_off(app, db, world, renderer, monkeypatch):
    monkeypatch.setitem(app.config, "MONTHLY_REPORTS", False)

    assert run_month(db) == (0, 0)


def test_nothing_is_made_on_new_years_day(db, world, renderer):
    added, _ = run_month(db, datetime(2027, 1, 1, 9, tzinfo=UTC))

    assert added == 0
    assert db.session.scalar(select(func.count(StoredReport.id))) == 0
    assert renderer == []


# --- made and stored once -----------------------------------------------------------------


def test_each_practice_gets_last_months_report_once_however_often_it_runs(db, world,
                                                                          renderer):
    practices = db.session.scalar(select(func.count(Practice.id)))

    assert run_month(db) == (practices, practices)
    assert run_month(db) == (0, 0)
    assert run_month(db, datetime(2027, 1, 5, 9, tzinfo=UTC)) == (0, 0)

    (report,) = stored(db, world.practice_a)
    assert (report.kind, report.period_start, report.period_end) == \
        ("monthly", DECEMBER.start, DECEMBER.end)
    assert report.pages == 1 and report.size == len(report.pdf)
    text = pdftotext(report.pdf)
    assert "Alder Surgery" in text and "1 December to 31 December 2026" in text
    scope, period = next((s, p) for s, p in renderer if s.practice_ids == (world.practice_a.id,))
    assert period == DECEMBER and scope.label == "Alder Surgery"


def test_a_second_job_for_the_same_month_stores_nothing(db, world, renderer):
    run_month(db)
    # As if the job's key had been lost: the stored report itself refuses a second copy.
    jobs.enqueue(monthly.KIND, "monthly-report:again",
                 {"practice_id": world.practice_a.id, "start": "2026-12-01",
                  "end": "2026-12-31"})
    db.session.commit()
    jobs.run_due(now=FIRST_WORKING_DAY_2027)

    assert len(stored(db, world.practice_a)) == 1
    assert monthly.store_report(world.practice_a.id, DECEMBER, render_pdf("<p>again</p>")) \
        is None


# --- email, exactly once, to those who asked ------------------------------------------------


@pytest.fixture
def managers(db, make, world):
    a_wants = make.user(Role.MANAGER, practice=world.practice_a)
    a_not = make.user(Role.MANAGER, practice=world.practice_a)
    a_left = make.user(Role.MANAGER, practice=world.practice_a)
    b_wants = make.user(Role.MANAGER, practice=world.practice_b)
    for user in (a_wants, a_left, b_wants):
        user.report_emails = True
    a_left.active = False
    db.session.commit()
    return SimpleNamespace(a_wants=a_wants, a_not=a_not, a_left=a_left, b_wants=b_wants)


def test_each_opted_in_manager_is_emailed_once_with_a_link(db, world, renderer, emails,
                                                            managers):
    run_month(db)
    run_month(db)

    assert sorted(m["to"] for m in emails) == sorted(
        [managers.a_wants.email, managers.b_wants.email])
    message = next(m for m in emails if m["to"] == managers.a_wants.email)
    assert message["subject"] == "Monthly report for December 2026 is ready"
    assert "Alder Surgery" in message["body"]
    assert "https://kindly.test/reports/monthly" in message["body"]
    notes = db.session.scalars(select(Notification).where(
        Notification.user_id == managers.a_wants.id)).all()
    assert [n.url for n in notes] == ["/reports/monthly"]


def test_a_repeated_email_job_sends_nothing_more(db, world, renderer, emails, managers):
    run_month(db)
    (report,) = stored(db, world.practice_a)
    # Another job for the same report and person (say, re-queued by hand) finds the
    # delivery already claimed and sent.
    jobs.enqueue(monthly.EMAIL_KIND, "report-email:again",
                 {"report_id": report.id, "user_id": managers.a_wants.id})
    db.session.commit()
    jobs.run_due(now=FIRST_WORKING_DAY_2027)

    assert [m["to"] for m in emails].count(managers.a_wants.email) == 1
    assert db.session.scalar(select(Job.status).where(Job.key == "report-email:again")) \
        == "done"


def test_a_manager_who_opts_out_before_the_email_goes_gets_none(db, world, renderer, emails,
                                                                managers):
    monthly.enqueue_monthly_reports(now=FIRST_WORKING_DAY_2027)
    jobs.run_due(now=FIRST_WORKING_DAY_2027, limit=1)  # practice A's report: stored
    assert len(stored(db, world.practice_a)) == 1 and emails == []
    managers.a_wants.report_emails = False  # then they change their mind
    db.session.commit()
    jobs.run_due(now=FIRST_WORKING_DAY_2027, limit=100)

    assert [m["to"] for m in emails] == [managers.b_wants.email]


def test_an_email_that_fails_is_retried_and_then_sent_once(app, db, world, renderer, emails,
                                                           managers, monkeypatch):
    sent = emails

    def flaky(config, **message):
        if not flaky.failed:
            flaky.failed = True
            raise OSError("SMTP server unreachable")
        sent.append(message)

    flaky.failed = False
    monkeypatch.setattr(mail, "send_email", flaky)
    # Take over an unsent claim at once (normally after 5 minutes, before the job's
    # second retry).
    monkeypatch.setitem(app.config, "DELIVERY_RETRY_AFTER_MINUTES", 0)
    monthly.enqueue_monthly_reports(now=FIRST_WORKING_DAY_2027)
    jobs.run_due(now=FIRST_WORKING_DAY_2027, limit=1)  # practice A's report
    jobs.run_due(now=utcnow())  # its email job: the send fails
    failed = db.session.scalars(select(Job).where(Job.kind == monthly.EMAIL_KIND)).one()
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert "not sent yet" in failed.last_error and sent == []

    jobs.run_due(now=utcnow() + timedelta(minutes=2))  # the retry, after its back-off
    jobs.run_due(now=FIRST_WORKING_DAY_2027, limit=100)  # everything else

    assert sorted(m["to"] for m in sent) == sorted(
        [managers.a_wants.email, managers.b_wants.email])


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def reports(db, world, renderer):
    run_month(db)
    return SimpleNamespace(a=stored(db, world.practice_a)[0],
                           other=stored(db, world.practice_other)[0])


def test_a_manager_lists_and_downloads_their_practice_reports(client, login_as, db, world,
                                                              reports):
    manager = login_as(Role.MANAGER, practice=world.practice_a)

    page = client.get("/reports/monthly").get_data(as_text=True)
    assert f"/reports/monthly/{reports.a.id}.pdf" in page and "December 2026" in page
    assert f"/reports/monthly/{reports.other.id}.pdf" not in page
    response = client.get(f"/reports/monthly/{reports.a.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == reports.a.pdf
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == manager.id, AuditEvent.entity_type == "stored-report",
        AuditEvent.entity_id == reports.a.id, AuditEvent.action == "read")).one()
    assert client.get(f"/reports/monthly/{reports.other.id}.pdf").status_code == 404


def test_the_list_is_newest_first(client, login_as, db, world, reports, renderer):
    run_month(db, datetime(2027, 2, 1, 9, tzinfo=UTC))
    login_as(Role.MANAGER, practice=world.practice_a)

    page = client.get("/reports/monthly").get_data(as_text=True)

    assert page.index("January 2027") < page.index("December 2026")


def test_a_coordinator_opens_their_teams_reports_only(client, login_as, world, reports):
    login_as(Role.COORDINATOR, team=world.team)

    assert client.get(f"/reports/monthly/{reports.a.id}.pdf").status_code == 200
    assert client.get(f"/reports/monthly/{reports.other.id}.pdf").status_code == 404
    assert "Alder Surgery" in client.get("/reports/monthly").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.REFERRER, Role.CONNECTOR, Role.ADMIN])
def test_others_may_not_see_monthly_reports(client, login_as, world, reports, role):
    kwargs = ({"practice": world.practice_a} if role is Role.REFERRER
              else {"team": world.team} if role is Role.CONNECTOR else {})
    login_as(role, **kwargs)

    assert client.get("/reports/monthly").status_code == 403
    assert client.get(f"/reports/monthly/{reports.a.id}.pdf").status_code == 403


def test_a_manager_turns_report_emails_on_and_off(client, login_as, db, world):
    manager = login_as(Role.MANAGER, practice=world.practice_a)

    page = client.get("/reports/monthly/email").get_data(as_text=True)
    assert 'value="no" checked' in page
    response = client.submit("/reports/monthly/email", {"wanted": "yes"})
    assert response.status_code == 302 and response.location.endswith("/reports/monthly")
    db.session.refresh(manager)
    assert manager.report_emails is True
    client.submit("/reports/monthly/email", {"wanted": "no"})
    db.session.refresh(manager)
    assert manager.report_emails is False
    changes = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "user", AuditEvent.entity_id == manager.id,
        AuditEvent.action == "change")).all()
    assert [c.detail for c in changes] == [{"report_emails": True}, {"report_emails": False}]


def test_the_email_choice_needs_a_csrf_token_and_an_answer(client, login_as, db, world):
    manager = login_as(Role.MANAGER, practice=world.practice_a)

    assert client.post("/reports/monthly/email", data={"wanted": "yes"}).status_code == 400
    page = client.submit("/reports/monthly/email", {"wanted": "maybe"})
    # An error answer (issue 14: post/redirect/get), in NHS.UK words.
    assert page.status_code == 422 and "nhsuk-error-message" in page.get_data(as_text=True)
    assert "Select yes if you want an email each month, or no" in page.get_data(as_text=True)
    db.session.refresh(manager)
    assert manager.report_emails is False


def test_only_managers_choose_report_emails(client, login_as, world):
    login_as(Role.COORDINATOR, team=world.team)

    assert client.get("/reports/monthly/email").status_code == 403


def test_the_scheduler_command_makes_the_months_reports(app, db, world, renderer,
                                                        monkeypatch):
    import referrals.models

    monkeypatch.setattr(referrals.models, "utcnow", lambda: FIRST_WORKING_DAY_2027)
    monkeypatch.setattr(jobs, "utcnow", lambda: FIRST_WORKING_DAY_2027)
    practices = db.session.scalar(select(func.count(Practice.id)))

    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])

    assert result.exit_code == 0, result.output
    assert f"monthly-reports: {practices}" in result.output
    assert [r.period_start for r in stored(db, world.practice_b)] == [DECEMBER.start]


def test_the_real_period_report_is_what_gets_stored(db, world):
    """No stand-in: the job builds and prints reports.period_report for last month."""
    run_month(db)
    (report,) = stored(db, world.practice_a)
    text = pdftotext(report.pdf)
    assert "Alder Surgery" in text and "1 December to 31 December 2026" in text
    assert "Referrals received" in text and f"Page 1 of {report.pages}" in text
    assert report.pages >= 1 and report.size == len(report.pdf)

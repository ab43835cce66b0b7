"""Kindly: social-prescribing referrals. create_app() is the only place the app is wired."""
from __future__ import annotations

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader

from referrals.config import PROJECT_ROOT, load_config

# The only blueprints that take no CSRF token, and why; everything else that changes
# anything needs one. tests/test_csrf.py reads this and fails on any other exemption.
CSRF_EXEMPT_BLUEPRINTS = {
    "fhir": "bearer tokens, not cookies: there is no signed-in browser to forge from",
    "openreferral": "read-only and public: it changes nothing",
}


def create_app(config=None) -> Flask:
    """Wire config, extensions, blueprints, error handlers and CLI; nothing else."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(load_config(config))
    _check_settings(app)
    if hops := int(app.config["PROXY_FIX_HOPS"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from referrals import bodysize

    bodysize.register(app)
    _init_extensions(app)
    _init_templates(app)
    _register_blueprints(app)

    from referrals import headers

    headers.register(app)

    from fhir_adapters.api import http_outcome
    from referrals import errorpages

    # Under /fhir even an unknown path or method answers with an OperationOutcome.
    errorpages.register(app, api_prefixes={"/fhir": http_outcome})

    from referrals import cli

    cli.register(app)
    _wire_reports(app)
    _register_health_checks(app)
    return app


def _register_health_checks(app: Flask) -> None:
    """What /healthz and the admin's pages report besides the database: PDF output lives in
    `reports`, which the domain never imports, so its check is handed over here."""
    from referrals import health
    from reports import readiness

    health.register_check(app, "pdf", "PDF output", readiness.pdf_unavailable)


def _wire_reports(app: Flask) -> None:
    """Outcome letters live in `reports`, which the domain never imports: their pages,
    command and the hook that writes a letter as a referral closes are wired here."""
    from referrals import demo_history, scheduler, signals
    from reports import cli as reports_cli
    from reports import lifecycle, monthly
    from reports.export_views import bp as report_exports_bp
    from reports.report_views import bp as reports_bp
    from reports.views import bp as letters_bp

    app.register_blueprint(letters_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(report_exports_bp)
    reports_cli.register(app)
    # Blinker keeps one connection per receiver, however many apps are made.
    signals.referral_closed.connect(lifecycle.on_referral_closed)
    lifecycle.register_jobs()
    monthly.register_jobs()
    # Hourly through the working day: the first run on the first working day makes the
    # month's reports; the rest find them made.
    scheduler.register("monthly-reports", monthly.enqueue_monthly_reports,
                       hour="7-18", minute="20")
    demo_history.register_extra("monthly-reports", monthly.enqueue_for_demo)


def _check_settings(app: Flask) -> None:
    """Refuse to start on a setting that would otherwise fail on first use."""
    from referrals.directory.ratelimit import limits_from

    try:
        limits_from(app.config["SELF_REFERRAL_RATE_LIMIT"])
    except (TypeError, ValueError) as exc:
        raise RuntimeError(f"SELF_REFERRAL_RATE_LIMIT is not valid: {exc}") from None
    try:  # issue 15 (volunteers): the sign-up's limit, read the same way
        limits_from(app.config["VOLUNTEER_SIGNUP_RATE_LIMIT"])
    except (TypeError, ValueError) as exc:
        raise RuntimeError(f"VOLUNTEER_SIGNUP_RATE_LIMIT is not valid: {exc}") from None
    limit = app.config["MAX_CONTENT_LENGTH"]
    if type(limit) is not int or limit < 1:
        raise RuntimeError(f"MAX_CONTENT_LENGTH must be a whole number of bytes, not {limit!r}")


def _init_extensions(app: Flask) -> None:
    from referrals import database, jobs
    from referrals.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        database.configure_engine(
            db.engine, busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "referrals" / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    jobs.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from referrals.auth import sessions

    sessions.init_app(app)  # the user loader and the remember-me cookie


def _init_templates(app: Flask) -> None:
    from referrals import presentation

    # Our templates first, then the NHS.UK component macros from nhsuk-frontend-jinja.
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(app.template_folder), PackageLoader("nhsuk_frontend_jinja")]
    )
    app.jinja_env.undefined = ChainableUndefined
    # Flask escapes only *.html templates; the NHS.UK macros are *.jinja, so without
    # this everything passed to them as "text" (what a user typed) goes out unescaped.
    app.jinja_env.autoescape = True
    presentation.register(app)


def _register_blueprints(app: Flask) -> None:
    from fhir_adapters.api import bp as fhir_bp
    from referrals.admin.views import bp as admin_bp
    from referrals.auth.views import bp as auth_bp
    from referrals.caseload.views import bp as caseload_bp
    from referrals.directory.manage_views import bp as directory_manage_bp
    from referrals.directory.openreferral import bp as openreferral_bp
    from referrals.directory.views import bp as directory_bp
    from referrals.health import bp as health_bp
    from referrals.hub.views import bp as hub_bp
    from referrals.intake.views import bp as intake_bp
    from referrals.matching.views import bp as matching_bp
    from referrals.outcomes.views import bp as outcomes_bp
    from referrals.notifications.views import bp as notifications_bp

    from referrals.extensions import csrf

    for bp in (auth_bp, intake_bp, caseload_bp, admin_bp, health_bp, fhir_bp, notifications_bp,
               hub_bp, directory_bp, directory_manage_bp, openreferral_bp, matching_bp, outcomes_bp):
        app.register_blueprint(bp)
    # The public site's privacy notice, accessibility statement and service status page.
    from referrals.about.views import bp as about_bp

    app.register_blueprint(about_bp)
    for name in CSRF_EXEMPT_BLUEPRINTS:
        csrf.exempt(app.blueprints[name])

    # Staff accounts in the browser (issue 14): the pages, and the job that sends their emails.
    from referrals.accounts import outbox
    from referrals.accounts.views import bp as accounts_bp

    app.register_blueprint(accounts_bp)
    outbox.register_jobs()

    # Issue 15 (matching): volunteer requests and matches, and safeguarding concerns.
    from referrals.volunteering.views import bp as volunteering_bp

    app.register_blueprint(volunteering_bp)
    from referrals import scheduler
    from referrals.volunteering import reminders

    scheduler.register("volunteer-check-ins", reminders.remind_check_ins, hour="8-18",
                       minute="10-59/30")
    from referrals import signals
    from referrals.volunteering import stepping_back

    signals.volunteer_stepped_back.connect(stepping_back.on_volunteer_stepped_back)
    from referrals.volunteering import own_views
    from referrals.volunteers import views as volunteers_views

    if own_views.page_section not in volunteers_views.PAGE_SECTIONS:  # once, however many apps
        volunteers_views.PAGE_SECTIONS.append(own_views.page_section)
    # --- issue 15 (volunteers): sign-up, review, the volunteer's page; DBS renewals.
    from referrals import scheduler
    from referrals.volunteers import review_views  # noqa: F401  (routes on the blueprint)
    from referrals.volunteers import service as volunteers
    from referrals.volunteers.views import bp as volunteers_bp

    app.register_blueprint(volunteers_bp)
    scheduler.register("volunteer-renewals", volunteers.renewal_job, hour="6", minute="40")
    # --- issue 15 (community): the hub's phone line and community champions ---
    from referrals.calls.views import bp as calls_bp
    from referrals.champions.views import bp as champions_bp

    app.register_blueprint(calls_bp)
    app.register_blueprint(champions_bp)
    # Retention: the nightly job, and a volunteer's sign-in restarting their clock.
    from flask_login import user_logged_in

    from referrals import retention, scheduler

    scheduler.register("retention", retention.run_job, hour="2", minute="40")
    user_logged_in.connect(retention.touch_volunteer)
    # Issue 15 (partners): a partner organisation's handovers and listings.
    from referrals.partners.views import bp as partners_bp

    app.register_blueprint(partners_bp)

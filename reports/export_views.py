"""Report exports and stored reports: the row-level CSVs, the national dataset and SNOMED
counts, the monthly report PDFs and the manager's email choice.

Who may ask for which scope is access.report_scope (404 when not theirs, as for anything
else not theirs). A CSV asked for with a bad period answers 400 with a plain sentence
per field (a download has no page to show the error beside the field); the national
counts page shows the errors beside its fields.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from referrals import access, audit
from referrals.access import REPORT_ROLES, allow
from referrals.extensions import db
from referrals.forms import KindlyForm, whole_number
from referrals.models import Practice, Role, StoredReport, utcnow
from referrals.scheduler import local_day
from referrals.scopes import Period, Scope, ScopeKind, parse_period
from reports import community_figures, exports, monthly, national
from reports.views import pdf_download

bp = Blueprint("report_exports", __name__)

REPORT_ID = "<int(max=2147483647):report_id>"


# --- which scope and period -------------------------------------------------------------


def _scope(kind: ScopeKind) -> Scope:
    practice_id = None
    if (raw := request.args.get("practice")) is not None:
        practice_id = whole_number(raw)
        if practice_id is None:
            abort(404)
    scope = access.report_scope(current_user, kind, practice_id=practice_id,
                                pcn=request.args.get("pcn"))
    if scope is None:
        abort(404)
    return scope


def _national_scope() -> Scope:
    """A coordinator's hub unless they name a practice or PCN; a manager's practice."""
    if request.args.get("practice"):
        return _scope(ScopeKind.PRACTICE)
    if request.args.get("pcn"):
        return _scope(ScopeKind.PCN)
    scope = (access.report_scope(current_user, ScopeKind.HUB)
             or access.report_scope(current_user, ScopeKind.PRACTICE))
    if scope is None:
        abort(404)
    return scope


def _period() -> tuple[Period | None, dict[str, str]]:
    return parse_period(request.args.get("from"), request.args.get("to"),
                        today=local_day(utcnow()))


def _identifiable() -> bool:
    raw = request.args.get("identifiable", "0")
    if raw not in ("0", "1"):
        abort(400, "identifiable must be 1 (with names and NHS numbers) or 0")
    if raw == "1" and not access.may_export_identifiable(current_user):
        abort(403)
    return raw == "1"


def _bad_period(errors: dict[str, str]) -> Response:
    text = "".join(f"{field}: {message}\n" for field, message in errors.items())
    return Response(text, status=400, mimetype="text/plain")


def _csv(lines: Iterator[str], filename: str) -> Response:
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _audit_export(what: str, scope: Scope, period: Period, ids: list[int],
                  identifiable: bool) -> None:
    detail = {"export": what, "scope": scope.kind.value, "label": scope.label,
              "from": period.start.isoformat(), "to": period.end.isoformat(),
              "identifiable": identifiable, "rows": len(ids)}
    if identifiable:
        detail["referral_ids"] = ids  # who was named, so each person's trail shows it
    audit.record("export", actor=current_user, entity_type="report-export", detail=detail)


def _filename(what: str, scope: Scope, period: Period) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in scope.label.lower()).strip("-")
    return f"kindly-{what}-{safe}-{period.start}-to-{period.end}.csv"


# --- row-level CSV ------------------------------------------------------------------------


def _referrals_csv(kind: ScopeKind) -> Response:
    scope = _scope(kind)
    identifiable = _identifiable()
    period, errors = _period()
    if period is None:
        return _bad_period(errors)
    ids, lines = exports.referral_csv(scope, period, identifiable=identifiable)
    _audit_export("referrals", scope, period, ids, identifiable)
    db.session.commit()  # the audit stands before a row leaves
    return _csv(lines, _filename("referrals", scope, period))


@bp.route("/reports/practice.csv")
@allow(*REPORT_ROLES)
def practice_csv():
    """One row per referral the practice sent in the period, pseudonymised."""
    return _referrals_csv(ScopeKind.PRACTICE)


@bp.route("/reports/pcn.csv")
@allow(Role.COORDINATOR)
def pcn_csv():
    """One row per referral the PCN's practices sent in the period, pseudonymised."""
    return _referrals_csv(ScopeKind.PCN)


@bp.route("/reports/hub.csv")
@allow(Role.COORDINATOR)
def hub_csv():
    """One row per referral the hub received in the period, pseudonymised."""
    return _referrals_csv(ScopeKind.HUB)


# --- issue 15 (numbers): the hub's community figures, suppressed ---------------------------


@bp.route("/reports/hub-community.csv")
@allow(Role.COORDINATOR)
def hub_community_csv():
    """The hub report's volunteers and community figures, suppressed as on the page."""
    scope = _scope(ScopeKind.HUB)
    period, errors = _period()
    if period is None:
        return _bad_period(errors)
    rows = community_figures.csv_rows(community_figures.build(scope, period))
    _audit_export("community", scope, period, [], False)
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(community_figures.CSV_COLUMNS)
    writer.writerows([exports.safe_cell(cell) for cell in row] for row in rows)
    return _csv(iter([out.getvalue()]), _filename("community", scope, period))


# --- the national dataset and counts -------------------------------------------------------


@bp.route("/reports/national-dataset.csv")
@allow(*REPORT_ROLES)
def national_dataset_csv():
    """The PRSB minimum dataset fields Kindly holds, one row per referral, pseudonymised."""
    scope = _national_scope()
    identifiable = _identifiable()
    period, errors = _period()
    if period is None:
        return _bad_period(errors)
    ids, lines = national.dataset_csv(scope, period, identifiable=identifiable)
    _audit_export("national-dataset", scope, period, ids, identifiable)
    db.session.commit()
    return _csv(lines, _filename("national-dataset", scope, period))


@bp.route("/reports/national-counts")
@allow(*REPORT_ROLES)
def national_counts():
    """The SNOMED CT counts per practice per month, with a form for the period."""
    scope = _national_scope()
    period, errors = _period()
    rows = national.national_counts(scope, period) if period else []
    audit.record("list", actor=current_user, entity_type="national-counts",
                 detail={"scope": scope.kind.value, "label": scope.label})
    page = render_template("report_exports/national_counts.html", scope=scope, period=period,
                           errors=errors, rows=rows, took_up=national.TOOK_UP,
                           declined=national.DECLINED, args=request.args)
    db.session.commit()
    return page


@bp.route("/reports/national-counts.csv")
@allow(*REPORT_ROLES)
def national_counts_csv():
    """The SNOMED CT counts per practice per month as CSV (not suppressed: exact)."""
    scope = _national_scope()
    period, errors = _period()
    if period is None:
        return _bad_period(errors)
    rows = national.national_counts(scope, period)
    audit.record("export", actor=current_user, entity_type="national-counts",
                 detail={"scope": scope.kind.value, "label": scope.label,
                         "from": period.start.isoformat(), "to": period.end.isoformat()})
    db.session.commit()
    return _csv(national.counts_csv(rows), _filename("national-counts", scope, period))


# --- monthly reports ---------------------------------------------------------------------


@bp.route("/reports/monthly")
@allow(*REPORT_ROLES)
def monthly_reports():
    """The monthly report PDFs stored for the user's practice (a coordinator: their
    team's practices), newest first."""
    reports = db.session.execute(
        access.scope_stored_reports(
            select(StoredReport.id, StoredReport.period_start, StoredReport.period_end,
                   StoredReport.created_at, StoredReport.pages, StoredReport.size,
                   Practice.name.label("practice"))
            .join(Practice, StoredReport.practice_id == Practice.id), current_user)
        .order_by(StoredReport.period_start.desc(), Practice.name)
        .limit(500)).all()
    return render_template("report_exports/monthly_reports.html", reports=reports,
                           may_choose=access.may_choose_report_emails(current_user),
                           emails_on=current_user.report_emails)


@bp.route(f"/reports/monthly/{REPORT_ID}.pdf")
@allow(*REPORT_ROLES)
def monthly_report_pdf(report_id: int):
    """One stored monthly report's PDF (audited)."""
    report = db.session.scalars(access.scope_stored_reports(
        select(StoredReport).where(StoredReport.id == report_id), current_user)).first()
    if report is None:
        abort(404)
    audit.record("read", actor=current_user, entity_type="stored-report", entity_id=report.id,
                 detail={"practice_id": report.practice_id,
                         "period_start": report.period_start.isoformat()})
    pdf = report.pdf  # deferred: loaded before the commit expires it
    filename = f"kindly-monthly-report-{report.period_start:%Y-%m}.pdf"
    db.session.commit()
    return pdf_download(pdf, filename)


class ReportEmailsForm(KindlyForm):
    wanted = RadioField(
        "Do you want an email when your practice's monthly report is ready?",
        choices=[SelectChoice("yes", "Yes, email me a link each month"),
                 SelectChoice("no", "No, I will look for it in Kindly")],
        validate_choice=False)

    def validate_wanted(self, field):
        # NHS.UK style: say what to do, never WTForms' "Not a valid choice" (issue 14).
        if field.data not in ("yes", "no"):
            field.data = None
            raise ValidationError("Select yes if you want an email each month, or no")


@bp.route("/reports/monthly/email", methods=["GET", "POST"])
@allow(Role.MANAGER)
def report_emails():
    """A manager's own choice of a monthly email (a link, never the report itself)."""
    if not access.may_choose_report_emails(current_user):
        abort(403)
    form = ReportEmailsForm()
    if request.method == "GET":
        form.wanted.data = "yes" if current_user.report_emails else "no"
    if form.validate_on_submit():
        wanted = form.wanted.data == "yes"
        monthly.set_report_emails(current_user, wanted, actor=current_user)
        db.session.commit()
        flash("We will email you a link when each monthly report is ready." if wanted
              else "We will not email you about monthly reports.", "success")
        return redirect(url_for(".monthly_reports"))
    # Shown again after a POST only with its errors (post/redirect/get).
    return render_template("report_exports/report_emails.html", form=form), \
        (422 if form.is_submitted() else 200)

"""The period report pages: /reports (choose a period and a scope), the report for a
practice, a PCN or the hub as a page and as a PDF, and the hub's unmet needs.

Thin: parse the period, ask access.report_scope for the scope (None: 404, as for
anything not theirs), build, audit, render. Reading a report is audited with no patient
id: it shows counts, never a person.
"""
from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from referrals import access, audit
from referrals.access import allow
from referrals.extensions import db
from referrals.forms import whole_number
from referrals.models import Role
from referrals.scopes import UK, Period, Scope, ScopeKind, parse_period
from reports import period_report, readiness, unmet_needs

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("")
@allow(Role.MANAGER, Role.COORDINATOR)
def index():
    """Choose a period and (for a coordinator) a practice, a PCN or the hub."""
    choices = _scope_choices()
    period, errors = parse_period(request.args.get("from"), request.args.get("to"),
                                  today=_today())
    chosen = request.args.get("scope")
    if chosen is not None and not errors:
        target = {value: target for value, _, target in choices}.get(chosen)
        if target is None:
            errors["scope"] = "Choose what the report covers"
        else:
            endpoint, params = target
            return redirect(url_for(endpoint, **params, **_period_args(period)))
    shown = period or Period.last_quarter(_today())
    links = [(f"{label}, {shown.label}", url_for(endpoint, **params, **_period_args(shown)))
             for _, label, (endpoint, params) in choices]
    if access.report_scope(current_user, ScopeKind.HUB) is not None:
        links.append((f"Unmet needs in the hub, {shown.label}",
                      url_for("reports.unmet", **_period_args(shown))))
    links += [("Monthly reports, as stored for each practice",
               url_for("report_exports.monthly_reports")),
              (f"National counts by SNOMED code, per practice and month, {shown.label}",
               url_for("report_exports.national_counts", **_period_args(shown)))]
    return render_template("reports/index.html", choices=choices, errors=errors,
                           period=shown, links=links,
                           values=request.args if chosen is not None else {})


@bp.route("/practice")
@bp.route("/practice.pdf", endpoint="practice_pdf")
@allow(Role.MANAGER, Role.COORDINATOR)
def practice():
    """One practice: a manager's own (whatever ?practice= says), or any of the hub's."""
    practice_id = whole_number(request.args.get("practice"))
    return _report(ScopeKind.PRACTICE, {"practice": practice_id} if practice_id else {},
                   practice_id=practice_id)


# Managers too, so that a PCN or the hub answers them 404 (report_scope), like anything
# else that is not theirs, rather than saying that it exists.
@bp.route("/pcn")
@bp.route("/pcn.pdf", endpoint="pcn_pdf")
@allow(Role.MANAGER, Role.COORDINATOR)
def pcn():
    """The hub's practices that share a PCN name."""
    name = request.args.get("pcn", "")[:200]
    return _report(ScopeKind.PCN, {"pcn": name}, pcn=name)


@bp.route("/hub")
@bp.route("/hub.pdf", endpoint="hub_pdf")
@allow(Role.MANAGER, Role.COORDINATOR)
def hub():
    """The coordinator's whole hub, with its unmet needs."""
    return _report(ScopeKind.HUB, {})


@bp.route("/unmet-needs")
@allow(Role.MANAGER, Role.COORDINATOR)
def unmet():
    """The hub's unmet needs over a period (also in the hub report)."""
    scope = access.report_scope(current_user, ScopeKind.HUB)
    if scope is None:
        abort(404)
    period, errors = parse_period(request.args.get("from"), request.args.get("to"),
                                  today=_today())
    found = unmet_needs.build(scope, period) if period else None
    audit.record("view", actor=current_user, entity_type="report",
                 detail={"report": "unmet-needs", "scope": scope.kind.value,
                         "team": scope.team_id, **_period_detail(period)})
    db.session.commit()
    return render_template("reports/unmet_needs.html", scope=scope, unmet=found,
                           period=period, errors=errors, values=request.args, pdf=False,
                           form_period=period or Period.last_quarter(_today()))


def _report(kind: ScopeKind, params: dict, **which):
    scope = access.report_scope(current_user, kind, **which)
    if scope is None:
        abort(404)
    as_pdf = request.endpoint.endswith("_pdf")
    period, errors = parse_period(request.args.get("from"), request.args.get("to"),
                                  today=_today())
    if errors and as_pdf:  # a PDF cannot show the errors: the page beside its form does
        return redirect(url_for(f"reports.{kind.value}", **request.args))
    if as_pdf and readiness.pdf_unavailable():
        # A server without the PDF libraries still has the page, with every figure.
        flash("This server cannot make PDFs at the moment (its PDF libraries are missing), "
              "so here is the report as a page. Your browser can print it.", "error")
        return redirect(url_for(f"reports.{kind.value}", **request.args))
    report = period_report.build(scope, period) if period else None
    audit.record("print" if as_pdf else "view", actor=current_user, entity_type="report",
                 detail={"report": kind.value, "practices": list(scope.practice_ids),
                         "team": scope.team_id, **_period_detail(period)})
    db.session.commit()
    if as_pdf:
        response = make_response(period_report.render_pdf(report))
        response.mimetype = "application/pdf"
        response.headers["Content-Disposition"] = (
            f'inline; filename="{_filename(scope, period)}"')
        return response
    return render_template(
        "reports/period.html", report=report, scope=scope, errors=errors,
        values=request.args, params=params, endpoint=f"reports.{kind.value}",
        body=period_report.render_html(report) if report else "",
        pdf_url=url_for(f"reports.{kind.value}_pdf", **params, **_period_args(period))
        if period else None,
        csv_url=url_for(f"report_exports.{kind.value}_csv", **params, **_period_args(period))
        if period else None,
        # issue 15 (numbers): the hub's community figures as a CSV
        community_csv_url=url_for("report_exports.hub_community_csv", **_period_args(period))
        if period and kind is ScopeKind.HUB else None,
        period=period or Period.last_quarter(_today()))


def _period_args(period: Period) -> dict:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _period_detail(period: Period | None) -> dict:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()} if period else {}


def _filename(scope: Scope, period: Period) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in scope.label.lower()).strip("-")
    return f"report-{slug[:60]}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf"


def _today():
    return datetime.now(UK).date()


def _scope_choices() -> list[tuple[str, str, tuple[str, dict]]]:
    """(value, label, (endpoint, params)) for each report the user may ask for."""
    found = []
    for kind, label, which in access.report_choices(current_user):
        params = {"practice": which["practice_id"]} if "practice_id" in which else \
            {"pcn": which["pcn"]} if "pcn" in which else {}
        value = ":".join([kind.value, *map(str, params.values())])
        found.append((value, label, (f"reports.{kind.value}", params)))
    return found

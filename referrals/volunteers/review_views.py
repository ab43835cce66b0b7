"""A coordinator reviews their team's volunteers (issue 15): the list (renewals due first),
one volunteer's record, recording references and DBS checks, approving or declining."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from referrals import access, audit
from referrals.access import allow
from referrals.extensions import db
from referrals.models import Role, Volunteer, VolunteerStatus, utcnow
from referrals.volunteers import decisions, service
from referrals.volunteers.forms import ChecksForm, DecisionForm
from referrals.volunteers.service import RACED, StaleVolunteer, VolunteerInvalid
from referrals.volunteers.views import bp

VOLUNTEER_ID = "<int(max=2147483647):volunteer_id>"
# The list's sections, in order; renewals due come before all of them.
SECTIONS = (VolunteerStatus.APPLIED, VolunteerStatus.APPROVED, VolunteerStatus.LAPSED,
            VolunteerStatus.DECLINED, VolunteerStatus.LEFT)


@bp.route("/hub/volunteers")
@allow(Role.COORDINATOR)
def review_list():
    """The team's volunteers: renewals due first, then awaiting checks, approved, lapsed,
    declined and left."""
    today = utcnow().date()
    volunteers = db.session.scalars(access.scope_volunteers(
        select(Volunteer), current_user).order_by(Volunteer.created_at, Volunteer.id)).all()
    warning = int(current_app.config["VOLUNTEER_RENEWAL_WARNING_DAYS"])
    due = sorted(((v, days) for v in volunteers
                  if (days := service.renewal_days(v, today)) is not None and days <= warning),
                 key=lambda item: item[1])
    sections = [(status, [v for v in volunteers if v.status is status]) for status in SECTIONS]
    audit.record("list", actor=current_user, entity_type="volunteer",
                 detail={"shown": [v.id for v in volunteers]})
    page = render_template("volunteers/review_list.html", due=due, sections=sections,
                           renewal_days=lambda v: service.renewal_days(v, today))
    db.session.commit()
    return page


@bp.route(f"/hub/volunteers/{VOLUNTEER_ID}")
@allow(Role.COORDINATOR)
def review(volunteer_id: int):
    """One volunteer: what they offered, their checks, and the decision."""
    volunteer = _load(volunteer_id)
    checks, decision = ChecksForm(formdata=None), DecisionForm(formdata=None)
    checks.started_from(volunteer.version)
    decision.started_from(volunteer.version)
    audit.record("read", actor=current_user, entity_type="volunteer", entity_id=volunteer.id)
    page = _page(volunteer, checks, decision)
    db.session.commit()
    return page


@bp.route(f"/hub/volunteers/{VOLUNTEER_ID}/checks", methods=["POST"])
@allow(Role.COORDINATOR)
def record_checks(volunteer_id: int):
    """Record that references and/or a DBS check were done (dates and who only)."""
    def record(volunteer: Volunteer, form: ChecksForm) -> str:
        done = decisions.record_checks(
            volunteer, actor=current_user, today=utcnow().date(),
            references_on=form.references_on.data, references_by=form.references_by.data or "",
            dbs_on=form.dbs_on.data, dbs_by=form.dbs_by.data or "",
            expected_version=form.expected_version)
        return f"Recorded for {volunteer.name}: {', '.join(done)}."

    return _submit(volunteer_id, ChecksForm(), record)


@bp.route(f"/hub/volunteers/{VOLUNTEER_ID}/decision", methods=["POST"])
@allow(Role.COORDINATOR)
def decide(volunteer_id: int):
    """Approve (which invites them to set a password) or decline, with the reason."""
    def decide_on(volunteer: Volunteer, form: DecisionForm) -> str:
        if form.decision.data != "approve":
            decisions.decline(volunteer, actor=current_user, reason=form.reason.data,
                              expected_version=form.expected_version)
            return f"{volunteer.name} is declined."
        invited = decisions.approve(
            volunteer, actor=current_user, reason=form.reason.data,
            today=utcnow().date(), base_url=_base_url(), expected_version=form.expected_version)
        return f"{volunteer.name} is approved." + (
            " We have emailed them a link to set their password." if invited else "")

    return _submit(volunteer_id, DecisionForm(), decide_on)


def _submit(volunteer_id: int, form: ChecksForm | DecisionForm, change):
    """`change(volunteer, form)` if the form is valid, then back to the volunteer with its
    message; otherwise (or when it is refused) the page again, keeping what was typed."""
    volunteer = _load(volunteer_id, for_change=True)
    conflict = None
    if form.validate():
        try:
            message = change(volunteer, form)
        except (StaleVolunteer, StaleDataError) as exc:
            conflict = str(exc) if isinstance(exc, StaleVolunteer) else RACED
        except VolunteerInvalid as exc:
            for name, error in exc.errors.items():
                form[name].errors = [error]
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("volunteers.review", volunteer_id=volunteer.id), 303)
    db.session.rollback()
    volunteer = _load(volunteer_id)
    if conflict:
        form.started_from(volunteer.version)  # what they typed stays, on the new version
    other = (DecisionForm if isinstance(form, ChecksForm) else ChecksForm)(formdata=None)
    other.started_from(volunteer.version)
    checks, decision = (form, other) if isinstance(form, ChecksForm) else (other, form)
    return _page(volunteer, checks, decision, conflict=conflict), 409 if conflict else 422


@bp.route(f"/hub/volunteers/{VOLUNTEER_ID}/invitation", methods=["POST"])
@allow(Role.COORDINATOR)
def resend_invitation(volunteer_id: int):
    """Email an approved volunteer a new link to set their password."""
    volunteer = _load(volunteer_id, for_change=True)
    if not FlaskForm().validate_on_submit():
        flash("This page had expired. Try again.", "error")
    else:
        try:
            decisions.resend_invitation(volunteer, actor=current_user, base_url=_base_url())
        except VolunteerInvalid as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"We have emailed {volunteer.name} a new link to set their password.",
                  "success")
    return redirect(url_for("volunteers.review", volunteer_id=volunteer_id), 303)


def _page(volunteer: Volunteer, checks: ChecksForm, decision: DecisionForm, *,
          conflict: str | None = None) -> str:
    today = utcnow().date()
    return render_template(
        "volunteers/review.html", volunteer=volunteer, checks=checks, decision=decision,
        conflict=conflict,
        missing=decisions.missing_for_approval(volunteer, today),
        renew_on=service.dbs_renew_on(volunteer),
        renewal_days=service.renewal_days(volunteer, today))


def _load(volunteer_id: int, *, for_change: bool = False) -> Volunteer:
    query = access.scope_volunteers(select(Volunteer), current_user).where(
        Volunteer.id == volunteer_id)
    volunteer = db.session.scalars(
        service.for_change(query) if for_change else query).first()
    if volunteer is None or not access.reviews_volunteer(current_user, volunteer):
        abort(404)
    return volunteer


def _base_url() -> str:
    return current_app.config.get("PUBLIC_URL") or request.url_root

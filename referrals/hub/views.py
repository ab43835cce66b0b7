"""Coordinator pages: the team's workload, its queue and overdue work, reassignment,
connectors' capacity and away dates, and the team's rules. Everything is scoped to the
coordinator's team."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals import access, audit, conflicts, routing, workdays
from referrals.access import allow
from referrals.errors import DomainError, StaleReferral
from referrals.extensions import db
from referrals.hub import service
from referrals.hub.forms import AssignForm, AvailabilityForm, TeamRulesForm
from referrals.models import Referral, ReferralEvent, Role, User, utcnow

bp = Blueprint("hub", __name__, url_prefix="/hub")

REFERRAL_ID = "<int(max=2147483647):referral_id>"
USER_ID = "<int(max=2147483647):user_id>"


@bp.route("")
@allow(Role.COORDINATOR)
def workload():
    """The team at a glance: who has room, what waits in the queue, what is overdue."""
    team = current_user.team
    if team is None:
        return render_template("hub/workload.html", overview=None, route_form=None)
    overview = service.overview(team)
    audit.record("list", actor=current_user, entity_type="referral",
                 detail={"page": "hub", "shown": overview.referral_ids})
    # Render, then commit: committing first would expire every row just read.
    page = render_template("hub/workload.html", overview=overview, route_form=FlaskForm())
    db.session.commit()
    return page


@bp.route("/route-queue", methods=["POST"])
@allow(Role.COORDINATOR)
def route_queue():
    """Give queued referrals to connectors who now have room."""
    if current_user.team is None:
        abort(404)
    if FlaskForm().validate_on_submit():
        assigned = service.route_queue(current_user.team, actor=current_user)
        db.session.commit()
        flash(f"{len(assigned)} referral{'s' if len(assigned) != 1 else ''} routed from the "
              "team queue." if assigned else "Nobody in the team has room at the moment.",
              "success" if assigned else "info")
    else:
        flash("This page had expired. Try again.", "error")
    return redirect(url_for("hub.workload"))


@bp.route(f"/referrals/{REFERRAL_ID}/assign", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def assign(referral_id: int):
    """Assign or reassign a referral to a connector in the team, with a reason."""
    referral = _load_referral(referral_id, for_change=request.method == "POST")
    loads = routing.team_workload(referral.team_id, on=workdays.uk_date(utcnow()))
    form = AssignForm(loads)
    conflict = None
    if form.validate_on_submit():
        try:
            service.assign(referral, form.chosen(), actor=current_user, reason=form.reason.data,
                           expected_version=form.expected_version)
        except StaleReferral as exc:
            conflict = conflicts.stale(exc, form)
        except DomainError as exc:
            form.add_error(getattr(exc, "field", None), str(exc))
        else:
            db.session.commit()
            holder = referral.connector.name if referral.connector else "the team queue"
            flash(f"Referral {referral.reference} is now with {holder}.", "success")
            return redirect(url_for("hub.workload"))
        db.session.rollback()
        referral = _load_referral(referral_id)
        if conflict is not None:
            form.started_from(referral.version)
    elif not form.is_submitted():
        form.connector.data = str(referral.connector_id) if referral.connector_id else None
        form.started_from(referral.version)
        audit.record_referral("read", referral, actor=current_user, page="assign")
        db.session.commit()
    status = 409 if conflict else 422 if form.errors or form.form_errors else 200
    return render_template("hub/assign.html", referral=referral, form=form,
                           conflict=conflict), status


@bp.route(f"/connectors/{USER_ID}", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def availability(user_id: int):
    """A connector's caseload capacity and the periods they are away, now and ahead."""
    connector = _load_connector(user_id)
    form = AvailabilityForm(obj=None)
    today = workdays.uk_date(utcnow())
    if not form.is_submitted():
        form.capacity.data = "" if connector.capacity is None else str(connector.capacity)
    elif form.validate():
        try:
            period = service.set_availability(
                connector, actor=current_user, capacity=form.capacity_value(),
                away_from=form.away_from.data, away_until=form.away_until.data,
                note=form.away_note.data or "", today=today)
        except DomainError as exc:
            form.add_error(getattr(exc, "field", None), str(exc))
            db.session.rollback()
            connector = _load_connector(user_id)
        else:
            db.session.commit()
            flash(f"Saved {connector.name}'s availability"
                  + (f": away {_days(period)}." if period else "."), "success")
            return redirect(url_for("hub.availability", user_id=connector.id))
    load = next((item for item in routing.team_workload(connector.team_id, on=today)
                 if item.connector.id == connector.id), None)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("hub/availability.html", connector=connector, load=load,
                           form=form, remove_form=FlaskForm(), today=today,
                           periods=service.away_periods(connector, from_day=today)), status


@bp.route(f"/connectors/{USER_ID}/away/<int(max=2147483647):period_id>/remove",
          methods=["POST"])
@allow(Role.COORDINATOR)
def remove_away(user_id: int, period_id: int):
    """Remove one period a connector was to be away."""
    connector = _load_connector(user_id)
    period = next((p for p in service.away_periods(connector) if p.id == period_id), None)
    if period is None or not FlaskForm().validate_on_submit():
        flash("That time away was already removed, or the page had expired. Check the list "
              "and try again.", "error")
        return redirect(url_for("hub.availability", user_id=connector.id))
    service.remove_away_period(period, actor=current_user)
    db.session.commit()
    flash(f"Removed {connector.name}'s time away {_days(period)}.", "success")
    return redirect(url_for("hub.availability", user_id=connector.id))


def _days(period) -> str:
    if period.starts_on == period.ends_on:
        return f"on {period.starts_on:%-d %B %Y}"
    return f"from {period.starts_on:%-d %B %Y} to {period.ends_on:%-d %B %Y}"


@bp.route("/settings", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def team_rules():
    """The team's first-contact target, attempts before "unable to contact", grace days."""
    team = current_user.team
    if team is None:
        abort(404)
    form = TeamRulesForm()
    if not form.is_submitted():
        for name in service.RULE_LIMITS:
            form[name].data = str(getattr(team, name))
    elif form.validate():
        try:
            service.set_team_rules(team, actor=current_user, **form.rules())
        except DomainError as exc:
            form.add_error(getattr(exc, "field", None), str(exc))
            db.session.rollback()
        else:
            db.session.commit()
            flash(f"Saved the rules for {team.name}.", "success")
            return redirect(url_for("hub.workload"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("hub/team_rules.html", team=team, form=form), status


def _load_referral(referral_id: int, *, for_change: bool = False) -> Referral:
    """A referral in the coordinator's team; anything else is 404, as if absent."""
    return access.referral_or_404(
        referral_id,
        selectinload(Referral.patient), selectinload(Referral.connector),
        selectinload(Referral.events).selectinload(ReferralEvent.actor),
        for_change=for_change,
    )


def _load_connector(user_id: int) -> User:
    """An active connector in the coordinator's team; anyone else is 404."""
    connector = db.session.scalars(
        select(User).where(User.id == user_id, access.managed_connectors(current_user))
    ).first()
    if connector is None:
        abort(404)
    return connector


# Details to check: their routes live on this blueprint, in their own module.
from referrals.hub import discrepancy_views  # noqa: F401

"""Recording outcome measures for a referral, and the change from baseline."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from referrals import access, audit
from referrals.access import HUB_ROLES, Action, allow
from referrals.caseload import workspace
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.models import Measurement, Referral, Timepoint, utcnow
from referrals.outcomes import instruments as registry
from referrals.outcomes import service
from referrals.outcomes.forms import attach_errors, has_errors, measurement_form

bp = Blueprint("outcomes", __name__, url_prefix="/caseload/referrals")

REFERRAL_ID = "<int(max=2147483647):referral_id>"


def _load_instruments(state) -> None:
    # Read and check the definitions as the app is made: a broken licensed file stops
    # the app starting, naming the file, rather than failing a connector's request.
    registry.instruments_for(state.app)


bp.record_once(_load_instruments)


@bp.app_template_global("outcome_summary")
def _outcome_summary(referral: Referral):
    """The change from baseline, for the workspace and the practice's referral page
    (their views load `Referral.measurements` eagerly)."""
    return service.outcome_summary(referral)


@bp.app_template_filter("score")
def format_score(value) -> str:
    """7 as "7", 19.25 as "19.25", a score left unscorable by a skipped item as "–"."""
    if value is None:
        return "–"
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"


@bp.app_template_filter("score_change")
def format_change(value) -> str:
    if value is None:
        return "–"
    return "0" if value == 0 else ("+" if value > 0 else "−") + format_score(abs(value))


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


@bp.route(f"/{REFERRAL_ID}/measures")
@allow(*HUB_ROLES)
def measures(referral_id: int):
    """The referral's outcome measures, the change from baseline, and what can be recorded."""
    referral = _load_referral(referral_id)
    audit.record_referral("read", referral, actor=current_user)
    page = render_template(
        "outcomes/measures.html", referral=referral,
        instruments=registry.instruments(),
        measurements=list(reversed(referral.measurements)),
        summary=service.outcome_summary(referral),
        can_record=access.can(current_user, Action.RECORD_MEASURE, referral),
        tabs=workspace.TABS, section=workspace.MEASURES,
    )
    db.session.commit()  # after rendering: a commit would expire what the page reads
    return page


@bp.route(f"/{REFERRAL_ID}/measures/new", methods=["GET", "POST"])
@allow(*HUB_ROLES)
def record(referral_id: int):
    """Record one outcome measure: when, how, and an answer (or Skipped) per item."""
    referral = _load_referral(referral_id)
    instrument = registry.instruments().get(request.args.get("instrument", ""))
    if instrument is None:
        abort(404)
    if not instrument.configured or not access.can(current_user, Action.RECORD_MEASURE,
                                                   referral):
        flash(f"{instrument.label} cannot be recorded: it is not configured."
              if not instrument.configured else
              "That cannot be done to this referral now.", "error")
        return redirect(url_for("outcomes.measures", referral_id=referral.id))
    form = measurement_form(instrument)
    if form.is_submitted():
        if form.validate():
            completed_on, errors = form.completed_on()
            try:
                if errors:
                    raise CaseworkInvalid(errors)
                service.record_measurement(
                    referral, instrument.code, timepoint=form.timepoint.data,
                    mode=form.mode.data, completed_on=completed_on, answers=form.answers(),
                    actor=current_user)
            except CaseworkInvalid as exc:
                attach_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(f"{instrument.label} recorded.", "success")
                return redirect(url_for("outcomes.measures", referral_id=referral.id))
        db.session.rollback()
        referral = _load_referral(referral_id)
    else:
        has_baseline = any(m.instrument == instrument.code
                           and m.timepoint is Timepoint.BASELINE for m in referral.measurements)
        form.timepoint.data = (Timepoint.FOLLOW_UP if has_baseline else Timepoint.BASELINE).value
        form.set_date(_today())
        audit.record_referral("read", referral, actor=current_user)
    page = render_template("outcomes/record.html", referral=referral, instrument=instrument,
                           form=form)
    db.session.commit()
    return page, (422 if has_errors(form) else 200)


def _load_referral(referral_id: int) -> Referral:
    """A referral the user may see, with its measurements; else 404."""
    return access.referral_or_404(
        referral_id,
        selectinload(Referral.patient),
        selectinload(Referral.measurements).selectinload(Measurement.recorded_by),
    )

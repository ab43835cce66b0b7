"""The hub's phone line: log a call, the team's call log and each call's page, and the
self-referral a call becomes. Coordinators and connectors of a team only."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from referrals.access import allow
from referrals.calls import service
from referrals.calls.forms import CallForm, CallReferralForm, CallSearchForm
from referrals.errors import DuplicateOpenReferral, IntakeInvalid, NotPermitted
from referrals.extensions import db
from referrals.models import CallOutcome, Practice, Role

bp = Blueprint("calls", __name__, url_prefix="/hub/calls")

CALL_ID = "<int(max=2147483647):call_id>"
MAX_PAGE = 1000


@bp.route("", methods=["GET"])
@allow(Role.COORDINATOR, Role.CONNECTOR)
def index():
    """The team's call log, newest first: by date range and outcome, paged."""
    form = CallSearchForm(request.args)
    valid = form.validate() if request.args else True
    page = service.search_calls(
        current_user, from_day=form.from_day.data if valid else None,
        to_day=form.to_day.data if valid else None,
        outcome=form.outcome_choice if valid else None, page=_page_number())
    html = render_template("calls/index.html", form=form, page=page, filters=_filters(form))
    db.session.commit()  # the audit event of the list
    return html, 200 if valid else 422


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR, Role.CONNECTOR)
def new():
    """Log a call in one short form; it becomes a self-referral, a volunteer request, or
    information given."""
    form = CallForm()
    if form.is_submitted() and form.validate():
        try:
            call = service.record_call(form.details(), actor=current_user)
        except service.CallInvalid as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        except NotPermitted:
            abort(403)
        else:
            db.session.commit()
            if call.outcome is CallOutcome.SELF_REFERRAL:
                flash("Call logged. Now add what the self-referral needs.", "success")
                return redirect(url_for("calls.self_referral", call_id=call.id), 303)
            flash(f"Call logged: {call.outcome.label.lower()}.", "success")
            return redirect(url_for("calls.show", call_id=call.id), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("calls/new.html", form=form), status


@bp.route(f"/{CALL_ID}")
@allow(Role.COORDINATOR, Role.CONNECTOR)
def show(call_id: int):
    """One call: who called, what they needed, and what it became."""
    call = service.read_call(current_user, call_id)
    if call is None:
        abort(404)
    html = render_template("calls/show.html", call=call)
    db.session.commit()
    return html


@bp.route(f"/{CALL_ID}/self-referral", methods=["GET", "POST"])
@allow(Role.COORDINATOR, Role.CONNECTOR)
def self_referral(call_id: int):
    """The self-referral a call became: the person's details the short form did not ask,
    prefilled from the call."""
    call = service.read_call(current_user, call_id)
    if call is None:
        abort(404)
    if call.outcome is not CallOutcome.SELF_REFERRAL or call.referral_id is not None:
        db.session.commit()
        return redirect(url_for("calls.show", call_id=call.id), 303)
    form = CallReferralForm(practices=_practices(call.team_id))
    if not form.is_submitted():
        given, _, family = call.person_name.partition(" ")
        form.given_name.data, form.family_name.data = given, family
        form.phone.data = call.caller_phone if not call.for_someone_else else ""
        form.what_would_help.data = call.need
    elif form.validate():
        try:
            referral = service.make_self_referral(call, form.to_intake(), actor=current_user)
        except DuplicateOpenReferral:
            db.session.rollback()
            # Not which referral: it may be another team's, which this user may not see.
            form.form_errors.append(
                "This person already has an open referral, so a new one cannot be made. "
                "Tell the connector team what they asked for.")
        except IntakeInvalid as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        except service.CallInvalid as exc:
            db.session.rollback()
            form.form_errors.extend(exc.errors.values())
        else:
            db.session.commit()
            flash(f"Self-referral {referral.reference} made from the call.", "success")
            return redirect(url_for("calls.show", call_id=call_id), 303)
        call = service.read_call(current_user, call_id)
    html = render_template("calls/self_referral.html", form=form, call=call)
    db.session.commit()
    return html, 422 if form.has_errors else 200


def _practices(team_id: int) -> list[Practice]:
    return list(db.session.scalars(
        select(Practice).where(Practice.team_id == team_id).order_by(Practice.name)))


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 1


def _filters(form: CallSearchForm) -> dict[str, str]:
    """The search as address arguments, for the page links."""
    return {name: request.args[name] for name in ("from_day", "to_day", "outcome")
            if request.args.get(name)}

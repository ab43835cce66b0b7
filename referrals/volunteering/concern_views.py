"""Raising a safeguarding concern (a volunteer or a partner), and reading one."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from referrals import access, audit
from referrals.access import allow
from referrals.caseload.forms import attach_errors
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.forms import whole_number
from referrals.models import Connection, Role, SafeguardingConcern, VolunteerMatch
from referrals.volunteering import concerns
from referrals.volunteering.blueprint import ID, PREFIX, bp
from referrals.volunteering.forms import ConcernForm


def _about() -> tuple[VolunteerMatch | None, Connection | None]:
    """The match (?match=) or handover (?connection=) the concern is about, if the user may
    raise one about it; anything else is 404, as if it did not exist."""
    match_id = whole_number(request.args.get("match"))
    connection_id = whole_number(request.args.get("connection"))
    if match_id is not None and connection_id is None:
        match = db.session.get(VolunteerMatch, match_id)
        if match is not None and access.may_raise_concern_about_match(current_user, match):
            return match, None
    if connection_id is not None and match_id is None:
        connection = db.session.get(Connection, connection_id)
        if connection is not None and access.may_raise_concern_about_connection(
                current_user, connection):
            return None, connection
    abort(404)


def _what_to_do_now() -> dict:
    return {"la_name": current_app.config["SAFEGUARDING_LA_NAME"],
            "la_phone": current_app.config["SAFEGUARDING_LA_PHONE"]}


@bp.route(f"{PREFIX}/concerns/new", methods=["GET", "POST"])
@allow(Role.VOLUNTEER, Role.PARTNER)
def raise_concern():
    """What to do now (999, the local authority), and the form that tells the hub."""
    match, connection = _about()
    form = ConcernForm()
    if form.is_submitted():
        if form.validate():
            try:
                raised = concerns.raise_concern(
                    actor=current_user, concern=form.concern.data or "",
                    immediate_danger=form.immediate_danger.data,
                    contact_phone=form.contact_phone.data or "", match=match,
                    connection=connection)
            except CaseworkInvalid as exc:
                attach_errors(form, exc.errors)
            else:
                db.session.commit()
                flash("Your concern has been sent to the hub's coordinators.", "success")
                return redirect(url_for("volunteering.concern", concern_id=raised.id))
        db.session.rollback()
        return render_template("volunteering/raise_concern.html", form=form,
                               **_what_to_do_now()), 422
    return render_template("volunteering/raise_concern.html", form=form, **_what_to_do_now())


@bp.route(f"{PREFIX}/concerns/{ID.format('concern_id')}")
@allow(Role.VOLUNTEER, Role.PARTNER, Role.COORDINATOR)
def concern(concern_id: int):
    """One concern: for whoever raised it (with what to do now) and the team's coordinators."""
    found = db.session.get(SafeguardingConcern, concern_id)
    if found is None or not access.may_read_concern(current_user, found):
        abort(404)
    audit.record("read", actor=current_user, entity_type="safeguarding_concern",
                 entity_id=found.id)
    page = render_template("volunteering/concern.html", concern=found,
                           raised_by_me=found.raised_by_id == current_user.id,
                           **_what_to_do_now())
    db.session.commit()
    return page

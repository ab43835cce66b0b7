"""Volunteers (issue 15): the public "how can you help?" sign-up, and the volunteer's own
page. The coordinator's review pages are in review_views.py, on this blueprint."""
from __future__ import annotations

import json
from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from referrals import access, audit
from referrals.access import allow, public
from referrals.directory import ratelimit
from referrals.extensions import db
from referrals.models import Role, Volunteer, VolunteerOffer, utcnow
from referrals.volunteers import own, service
from referrals.volunteers.forms import DetailsForm, SignUpForm, StepBackForm
from referrals.volunteers.service import RACED, SLOT_LABELS, StaleVolunteer, VolunteerInvalid

bp = Blueprint("volunteers", __name__)



@bp.context_processor
def _words():
    """How this blueprint's pages name what a volunteer offers and when they are free."""
    return {"offer_list": lambda v: ", ".join(VolunteerOffer(o).label for o in v.offers),
            "slot_labels": SLOT_LABELS}


# What other parts add to the volunteer's own page: each takes their Volunteer record and
# answers template context. Matching registers its matches and check-ins here and renders
# them in templates/volunteers/_matches.html, which the page includes when it exists.
PAGE_SECTIONS: list[Callable[[Volunteer], dict]] = []

# The confirmation page shows the first name given, once (post/redirect/get).
SENT_NAME = "volunteer_signup_first_name"


@bp.route("/volunteer", methods=["GET", "POST"])
@public
def sign_up():
    """"How can you help?": offer to volunteer with a hub."""
    secret = current_app.config["SECRET_KEY"]
    form = SignUpForm(teams=service.teams_taking_volunteers())
    if not form.is_submitted():
        form.shown.data = ratelimit.shown_token(secret)
        return _sign_up_page(form)
    if ratelimit.honeypot_filled(request.form):
        return _pretend_sent(form)  # a bot: tell it nothing
    form.validate()
    if ratelimit.seconds_since_shown(form.shown.data, secret) is None:
        form.shown.data = ratelimit.shown_token(secret)
    if form.has_errors:
        return _sign_up_page(form, status=422)
    if ratelimit.sent_too_quickly(form.shown.data, secret):
        return _sign_up_page(form, status=422, too_fast=True)
    origin = ratelimit.client_origin(request.remote_addr or "", secret)
    limits = ratelimit.limits_from(current_app.config["VOLUNTEER_SIGNUP_RATE_LIMIT"])
    if ratelimit.over_limit(origin, limits, utcnow(), entity_type="volunteer") is not None:
        return _sign_up_page(form, status=429, rate_limited=True)
    try:
        service.sign_up(form.to_details(), team=form.team, origin=origin)
    except VolunteerInvalid as exc:
        db.session.rollback()
        form.add_errors(exc.errors)
        return _sign_up_page(form, status=422)
    db.session.commit()
    return _pretend_sent(form)


@bp.route("/volunteer/thank-you")
@public
def signed_up():
    """The confirmation: what happens next."""
    return render_template("volunteers/signed_up.html", first_name=session.pop(SENT_NAME, ""))


def _sign_up_page(form: SignUpForm, *, status: int = 200, rate_limited=False, too_fast=False):
    return render_template("volunteers/sign_up.html", form=form, rate_limited=rate_limited,
                           too_fast=too_fast), status


def _pretend_sent(form: SignUpForm):
    """What success looks like, for a person and for a bot alike."""
    session[SENT_NAME] = (form.given_name.data or "").strip()[:100]
    return redirect(url_for("volunteers.signed_up"), 303)


# --- the volunteer's own page ---------------------------------------------------------


@bp.route("/volunteering")
@allow(Role.VOLUNTEER)
def my_page():
    """The volunteer's own record: what they offer, when they are free, their matches."""
    volunteer = _own()
    audit.record("read", actor=current_user, entity_type="volunteer", entity_id=volunteer.id,
                 detail={"page": "own"})
    sections = {key: value for section in PAGE_SECTIONS
                for key, value in section(volunteer).items()}
    page = render_template("volunteers/my_page.html", **sections, volunteer=volunteer,
                           on_a_break=own.on_a_break(volunteer),
                           come_back_form=FlaskForm())
    db.session.commit()
    return page


@bp.route("/volunteering/details", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_details():
    """Change what you offer, when you are free, and how to reach you."""
    volunteer = _own(for_change=request.method == "POST")
    form = DetailsForm()
    conflict = None
    if not form.is_submitted():
        form.show(volunteer)
        form.started_from(volunteer.version)
    elif form.validate():
        try:
            own.update_details(volunteer, actor=current_user, offers=form.offers.data,
                               skills=form.skills.data or "", availability=form.availability.data,
                               availability_note=form.availability_note.data or "",
                               phone=form.phone.data or "", postcode=form.postcode.data or "",
                               travel_km=form.travel_km, expected_version=form.expected_version)
        except (StaleVolunteer, StaleDataError) as exc:
            conflict = str(exc) if isinstance(exc, StaleVolunteer) else RACED
        except VolunteerInvalid as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Your details are saved.", "success")
            return redirect(url_for("volunteers.my_page"), 303)
        db.session.rollback()
        if conflict:  # what they sent stays, now based on the latest version
            form.started_from(_own().version)
    status = 409 if conflict else 422 if form.has_errors else 200
    return render_template("volunteers/edit_details.html", form=form, conflict=conflict), status


@bp.route("/volunteering/step-back", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def step_back():
    """"I need a break" or "I want to leave", with a reason if they wish."""
    volunteer = _own(for_change=request.method == "POST")
    form = StepBackForm()
    conflict = None
    if not form.is_submitted():
        form.started_from(volunteer.version)
    elif form.validate():
        try:
            own.step_back(volunteer, actor=current_user, kind=form.kind.data,
                          reason=form.reason.data or "", expected_version=form.expected_version)
        except (StaleVolunteer, StaleDataError) as exc:
            conflict = str(exc) if isinstance(exc, StaleVolunteer) else RACED
        except VolunteerInvalid as exc:
            for name, message in exc.errors.items():
                form[name].errors = [message]
        else:
            db.session.commit()
            flash("Thank you for letting us know." + (
                " Come back whenever you are ready." if form.kind.data == own.BREAK else
                " Thank you for all you have done."), "success")
            return redirect(url_for("volunteers.my_page"), 303)
        db.session.rollback()
        if conflict:
            form.started_from(_own().version)
    status = 409 if conflict else 422 if form.is_submitted() else 200
    return render_template("volunteers/step_back.html", form=form, conflict=conflict,
                           volunteer=volunteer), status


@bp.route("/volunteering/come-back", methods=["POST"])
@allow(Role.VOLUNTEER)
def come_back():
    """End a break."""
    volunteer = _own(for_change=True)
    form = FlaskForm()
    if not form.validate_on_submit():
        flash("This page had expired. Try again.", "error")
        return redirect(url_for("volunteers.my_page"), 303)
    try:
        status = own.come_back(volunteer, actor=current_user, today=utcnow().date(),
                               expected_version=_sent_version())
    except (StaleVolunteer, VolunteerInvalid, StaleDataError) as exc:
        db.session.rollback()
        flash(RACED if isinstance(exc, StaleDataError) else str(exc), "error")
        return redirect(url_for("volunteers.my_page"), 303)
    db.session.commit()
    flash("Welcome back." + ("" if status.value == "approved" else
                             " Your DBS check needs renewing first: the hub will be in touch."),
          "success")
    return redirect(url_for("volunteers.my_page"), 303)


@bp.route("/volunteering/download.json")
@allow(Role.VOLUNTEER)
def download_json():
    """Download what Kindly holds about me, as JSON."""
    data = own.export(_own(), actor=current_user)
    db.session.commit()
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-kindly-record.json"',
                             "Cache-Control": "no-store"})


@bp.route("/volunteering/download")
@allow(Role.VOLUNTEER)
def download_page():
    """What Kindly holds about me, to read."""
    data = own.export(_own(), actor=current_user)
    page = render_template("volunteers/download.html", data=data)
    db.session.commit()
    return page


def _own(*, for_change: bool = False) -> Volunteer:
    volunteer = access.own_volunteer_record(current_user)
    if volunteer is None:
        abort(404)
    if for_change:
        volunteer = db.session.scalars(service.for_change(
            select(Volunteer).where(Volunteer.id == volunteer.id))).one()
    return volunteer


def _sent_version() -> int | None:
    raw = (request.form.get("version") or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None

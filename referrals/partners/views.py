"""A partner organisation's pages: the warm handovers to its offers, each answered, and
its own listings kept current. Every route is for partners only (referrals/access.py),
and a handover or listing of another organisation is 404, as if it did not exist."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from referrals import conflicts
from referrals.access import allow, partner_organisation
from referrals.caseload.forms import attach_errors, has_errors
from referrals.directory import display
from referrals.directory import service as directory
from referrals.directory.details import DirectoryInvalid, offer_problems
from referrals.directory.manage_forms import ConfirmForm, OfferForm
from referrals.errors import CaseworkInvalid, StaleConnection
from referrals.extensions import db
from referrals.models import Role, utcnow
from referrals.partners import service
from referrals.partners.forms import AnswerForm, CapacityForm, FilterForm
from referrals.workdays import uk_date

bp = Blueprint("partners", __name__, url_prefix="/partner")

CONNECTION_ID = "<int(max=2147483647):connection_id>"
OFFER_ID = "<string(maxlength=64):offer_id>"


@bp.route("")
@allow(Role.PARTNER)
def handovers():
    """The warm handovers to this organisation's offers, newest first."""
    form = FilterForm(formdata=request.args)
    which = form.show.data if form.show.data in service.FILTERS else "open"
    found = service.handovers_for(current_user, which=which)
    page = render_template("partners/handovers.html", handovers=found, form=form,
                           which=which, organisation=partner_organisation(current_user),
                           limit=service.LIST_LIMIT)
    db.session.commit()  # the audited reads
    return page


@bp.route(f"/handovers/{CONNECTION_ID}", methods=["GET", "POST"])
@allow(Role.PARTNER)
def handover(connection_id: int):
    """One handover: what the person agreed to share, and the organisation's answer."""
    connection, referral = _handover_or_404(connection_id)
    form = AnswerForm()
    form.offer(service.answers_for(current_user, connection, referral))
    conflict = None
    if form.is_submitted():
        if form.validate():
            try:
                service.answer_handover(
                    connection, answer=form.answer, on=form.on.data,
                    capacity_returns_on=form.capacity_returns_on.data, note=form.note.data,
                    actor=current_user, today=_today(), expected_version=form.expected_version)
            except StaleConnection as exc:
                conflict = conflicts.stale(exc, form)
            except CaseworkInvalid as exc:
                attach_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(f"Your answer is saved: {connection.status.label.lower()}. "
                      "The connector sees it now.", "success")
                return redirect(url_for("partners.handover", connection_id=connection.id), 303)
        db.session.rollback()
        connection, referral = _handover_or_404(connection_id)
        form.offer(service.answers_for(current_user, connection, referral))
        if conflict is not None:
            form.started_from(connection.version)
            if not form.status.choices:  # no form to send again: show what they typed
                conflict.unsaved = conflicts.typed(form)
    else:
        form.started_from(connection.version)
        today = _today()
        form.on.parts = {"day": str(today.day), "month": str(today.month),
                         "year": str(today.year)}
    seen = service.read_handover(current_user, connection, referral)
    page = render_template("partners/handover.html", handover=seen, connection=connection,
                           form=form, conflict=conflict)
    db.session.commit()  # the audited read
    return page, 409 if conflict else 422 if has_errors(form) else 200


@bp.route("/listings")
@allow(Role.PARTNER)
def listings():
    """This organisation's listings in the directory."""
    return render_template("partners/listings.html", offers=service.listings_for(current_user),
                           organisation=partner_organisation(current_user), display=display,
                           today=_today())


@bp.route(f"/listings/{OFFER_ID}")
@allow(Role.PARTNER)
def listing(offer_id: str):
    """One listing as the directory shows it, with its capacity and "confirm" buttons."""
    offer = _listing_or_404(offer_id)
    capacity = CapacityForm(data={"capacity": offer.capacity_status.value,
                                  "returns_on": offer.capacity_returns_on})
    return _listing_page(offer, capacity)


@bp.route(f"/listings/{OFFER_ID}/edit", methods=["GET", "POST"])
@allow(Role.PARTNER)
def edit_listing(offer_id: str):
    """Change the listing's place, times and contact."""
    offer = _listing_or_404(offer_id)
    form = _offer_form(offer, formdata=None if request.method == "GET" else request.form)
    if request.method == "GET":
        form.fill(offer)
    else:
        current = _offer_form(offer, formdata=None)
        current.fill(offer)
        typed = form.details()
        if not form.validate():
            attach_errors(form, offer_problems(service.listing_details(current.details(),
                                                                       typed)))
        else:
            try:
                service.update_listing(offer, current.details(), typed, actor=current_user)
            except DirectoryInvalid as exc:
                attach_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(f"Saved the changes to {offer.name}.", "success")
                return redirect(url_for("partners.listing", offer_id=offer.id), 303)
        db.session.rollback()
    return render_template("partners/edit_listing.html", form=form, offer=offer), \
        422 if has_errors(form) else 200


@bp.route(f"/listings/{OFFER_ID}/capacity", methods=["POST"])
@allow(Role.PARTNER)
def listing_capacity(offer_id: str):
    """Say whether the listing can take new people, and when a full one has room again."""
    offer = _listing_or_404(offer_id)
    form = CapacityForm()
    if form.validate_on_submit():
        try:
            service.set_listing_capacity(offer, form.choice, form.returns_on.data,
                                         actor=current_user, today=_today())
        except DirectoryInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"{offer.name}: {offer.capacity_status.label.lower()}.", "success")
            return redirect(url_for("partners.listing", offer_id=offer.id), 303)
    db.session.rollback()
    return _listing_page(_listing_or_404(offer_id), form), 422


@bp.route(f"/listings/{OFFER_ID}/confirm", methods=["POST"])
@allow(Role.PARTNER)
def confirm_listing(offer_id: str):
    """"These details are right": renews the listing's last verified date."""
    offer = _listing_or_404(offer_id)
    if ConfirmForm().validate_on_submit():
        directory.mark_verified(offer, actor=current_user)
        db.session.commit()
        flash(f"Thank you: {offer.name} is confirmed as right today.", "success")
    else:
        flash("This page had expired. Press the button again.", "error")
    return redirect(url_for("partners.listing", offer_id=offer.id), 303)


def _handover_or_404(connection_id: int):
    found = service.handover_connection(current_user, connection_id)
    if found is None:
        abort(404)
    return found


def _listing_or_404(offer_id: str):
    offer = service.listing(current_user, offer_id)
    if offer is None:
        abort(404)
    return offer


def _offer_form(offer, *, formdata):
    return OfferForm([offer.organisation] if offer.organisation else [], offer.status,
                     formdata=formdata)


def _listing_page(offer, capacity: CapacityForm):
    return render_template("partners/listing.html", offer=offer, capacity=capacity,
                           confirm=ConfirmForm(), display=display, today=_today())


def _today():
    return uk_date(utcnow())

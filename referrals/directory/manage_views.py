"""Coordinators keep the directory honest: organisations, offers, verification, capacity."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals.access import allow
from referrals.caseload.forms import attach_errors
from referrals.directory import display, listing, service, vocabulary
from referrals.directory.details import (
    DirectoryInvalid,
    offer_problems,
    organisation_problems,
)
from referrals.directory.manage_forms import (
    CapacityForm,
    ConfirmForm,
    OfferForm,
    OrganisationForm,
    offer_filter,
)
from referrals.extensions import db
from referrals.models import (
    CapacityStatus,
    DirectoryOrganisation,
    Offer,
    OfferKind,
    OfferStatus,
    Role,
    ServiceAtLocation,
    utcnow,
)
from referrals.workdays import uk_date

bp = Blueprint("directory_manage", __name__, url_prefix="/hub/directory")

OFFER_ID = "<string(maxlength=64):offer_id>"
ORGANISATION_ID = "<string(maxlength=64):organisation_id>"
UNPLACED = ("We could not place this postcode on the map, so the offer is saved without "
            "coordinates and searches by distance will not find it. Enter its latitude and "
            "longitude to fix this.")


@bp.route("")
@allow(Role.COORDINATOR)
def list_offers():
    """Every offer, filtered and searched, with quick verify and capacity actions."""
    today = _today()
    filters = offer_filter(request.args)
    return render_template(
        "directory_manage/list_offers.html", page=listing.find_offers(filters, today=today),
        filters=filters, due=listing.needs_checking_count(today=today), today=today,
        **_vocabulary())


@bp.route("/needs-checking")
@allow(Role.COORDINATOR)
def needs_checking():
    """Active offers nobody has verified for six months, never-verified and oldest first."""
    today = _today()
    return render_template("directory_manage/needs_checking.html",
                           page=listing.needs_checking(today=today, page=_page_number(),
                                                       per_page=_page_size()),
                           today=today, days=listing.CHECK_EVERY_DAYS, **_vocabulary())


@bp.route(f"/offers/{OFFER_ID}")
@allow(Role.COORDINATOR)
def show_offer(offer_id: str):
    """Everything the directory holds about one offer, with its actions."""
    offer = _offer_or_404(offer_id)
    return render_template("directory_manage/show_offer.html", offer=offer, today=_today(),
                           unplaced=service.unplaced(offer), **_vocabulary())


@bp.route("/offers/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new_offer():
    """Add an offer to the directory."""
    form = OfferForm(listing.organisation_choices())
    if not form.is_submitted():
        form.organisation.data = request.args.get("organisation", "")
        form.status.data = OfferStatus.ACTIVE.value
    elif offer := _save(form, lambda details: service.create_offer(details, actor=current_user)):
        return _saved(offer, f"{offer.name} added to the directory.")
    return render_template("directory_manage/new_offer.html", form=form), _status(form)


@bp.route(f"/offers/{OFFER_ID}/edit", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit_offer(offer_id: str):
    """Change an offer's details; what an import brought and the form does not show stays."""
    offer = _offer_or_404(offer_id)
    form = OfferForm(listing.organisation_choices(offer.organisation_id), offer.status)
    if not form.is_submitted():
        form.fill(offer)
    elif _save(form, lambda details: service.update_offer(offer, details, actor=current_user)
               or offer):
        return _saved(offer, f"Saved the changes to {offer.name}.")
    return render_template("directory_manage/edit_offer.html", form=form, offer=offer,
                           other_schedules=service.other_schedules(offer),
                           other_sites=[s for s in offer.sites
                                        if s is not service.venue_site(offer)]), _status(form)


@bp.route(f"/offers/{OFFER_ID}/retire", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def retire_offer(offer_id: str):
    """Confirm, then make an offer inactive: it leaves the public directory and matching."""
    offer = _offer_or_404(offer_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.retire_offer(offer, actor=current_user)
        except DirectoryInvalid as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"{offer.name} is now inactive.", "success")
        return redirect(url_for(".show_offer", offer_id=offer.id))
    # Sent without a valid form (an expired page): an error answer, never a 200.
    return render_template("directory_manage/retire_offer.html", offer=offer, form=form), \
        (422 if form.is_submitted() else 200)


@bp.route(f"/offers/{OFFER_ID}/verify", methods=["POST"])
@allow(Role.COORDINATOR)
def verify_offer(offer_id: str):
    """Record that the coordinator checked the offer's details today."""
    offer = _offer_or_404(offer_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        service.mark_verified(offer, actor=current_user)
        db.session.commit()
        flash(f"{offer.name} marked as verified today.", "success")
    return redirect(_back(form.next.data, offer))


@bp.route(f"/offers/{OFFER_ID}/capacity", methods=["POST"])
@allow(Role.COORDINATOR)
def set_capacity(offer_id: str):
    """Set whether an offer is open, has a waiting list or is full, in one action."""
    offer = _offer_or_404(offer_id)
    form = CapacityForm()
    if form.validate_on_submit():
        try:
            before = service.set_capacity(offer, form.choice(), actor=current_user)
        except DirectoryInvalid as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            now = offer.capacity_status.label.lower()
            flash(f"{offer.name}: capacity changed from {before.label.lower()} to {now}."
                  if before is not offer.capacity_status
                  else f"{offer.name}: capacity confirmed as {now}.", "success")
    return redirect(_back(form.next.data, offer))


@bp.route("/organisations")
@allow(Role.COORDINATOR)
def list_organisations():
    """Every organisation with its number of active offers."""
    return render_template("directory_manage/list_organisations.html",
                           page=listing.organisations_with_counts(page=_page_number(),
                                                                  per_page=_page_size()))


@bp.route("/organisations/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new_organisation():
    """Add an organisation that runs offers."""
    form = OrganisationForm()
    if form.is_submitted() and (organisation := _save(
            form, lambda d: service.create_organisation(d, actor=current_user),
            organisation_problems)):
        db.session.commit()
        flash(f"{organisation.name} added. Now add its offers.", "success")
        return redirect(url_for(".edit_organisation", organisation_id=organisation.id))
    return render_template("directory_manage/new_organisation.html", form=form), _status(form)


@bp.route(f"/organisations/{ORGANISATION_ID}", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit_organisation(organisation_id: str):
    """An organisation's details and its offers."""
    organisation = _organisation_or_404(organisation_id)
    form = OrganisationForm()
    if not form.is_submitted():
        form.fill(organisation)
    elif _save(form, lambda d: service.update_organisation(organisation, d, actor=current_user)
               or organisation, organisation_problems):
        db.session.commit()
        flash(f"Saved the changes to {organisation.name}.", "success")
        return redirect(url_for(".list_organisations"))
    return render_template("directory_manage/edit_organisation.html", form=form,
                           organisation=organisation), _status(form)


@bp.route(f"/organisations/{ORGANISATION_ID}/retire", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def retire_organisation(organisation_id: str):
    """Confirm, then retire an organisation and make its active offers inactive."""
    organisation = _organisation_or_404(organisation_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            retired = service.retire_organisation(organisation, actor=current_user)
        except DirectoryInvalid as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"{organisation.name} is retired and {len(retired)} active "
                  f"offer{'s are' if len(retired) != 1 else ' is'} now inactive.", "success")
        return redirect(url_for(".list_organisations"))
    active = [o for o in organisation.offers if o.status is OfferStatus.ACTIVE]
    return render_template("directory_manage/retire_organisation.html",
                           organisation=organisation, active=active, form=form), \
        (422 if form.is_submitted() else 200)


def _save(form, save, problems=None):
    """Save what the form says, or put every problem by its field and return None.

    When a field failed to parse, the service's rules still run on the rest, so the
    coordinator sees every problem at once.
    """
    problems = problems or offer_problems
    if not form.validate():
        attach_errors(form, problems(form.details()))
        return None
    try:
        return save(form.details())
    except DirectoryInvalid as exc:
        # The service checks before it changes anything, so there is nothing to undo.
        attach_errors(form, exc.errors)
        return None


def _saved(offer: Offer, message: str):
    db.session.commit()
    flash(message, "success")
    if service.unplaced(offer):
        flash(UNPLACED, "info")
    return redirect(url_for(".show_offer", offer_id=offer.id))


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _back(target: str | None, offer: Offer) -> str:
    """Back to the page the action came from, if it is one of ours; else the offer."""
    parts = urlsplit(target or "")
    if (target and not parts.scheme and not parts.netloc and "\\" not in target
            and parts.path.startswith(bp.url_prefix)):
        return target
    return url_for(".show_offer", offer_id=offer.id)


def _today():
    return uk_date(utcnow())


def _page_number() -> int:
    """?page=N; anything else (or a silly size) is the first page."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def _page_size() -> int:
    return int(current_app.config["PAGE_SIZE"])


def _vocabulary() -> dict:
    return {"display": display, "kinds": list(OfferKind), "statuses": list(OfferStatus),
            "capacities": list(CapacityStatus), "categories": vocabulary.CATEGORIES,
            "due_check": listing.is_due_check}


def _offer_or_404(offer_id: str) -> Offer:
    offer = db.session.scalars(
        select(Offer).where(Offer.id == offer_id).options(
            selectinload(Offer.organisation), selectinload(Offer.verified_by),
            selectinload(Offer.sites).selectinload(ServiceAtLocation.location),
            selectinload(Offer.schedules), selectinload(Offer.cost_options),
            selectinload(Offer.attributes))
    ).first()
    if offer is None:
        abort(404)
    return offer


def _organisation_or_404(organisation_id: str) -> DirectoryOrganisation:
    organisation = db.session.get(DirectoryOrganisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation

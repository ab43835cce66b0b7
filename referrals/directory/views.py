"""The public directory: find something near you, and ask a connector to contact me.

No sign-in and no personal data: these pages show the directory and take a
self-referral, which goes through the one intake service like every referral.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from referrals.access import public
from referrals.directory import display, ratelimit
from referrals.directory.forms import UNKNOWN_POSTCODE, SearchForm, SelfReferralForm
from referrals.directory.search import offer_loading, search
from referrals.errors import DuplicateOpenReferral, IntakeInvalid
from referrals.extensions import db
from referrals.forms import whole_number
from referrals.intake import service
from referrals.models import Offer, OfferKind, OfferStatus, Practice, utcnow

bp = Blueprint("directory", __name__, url_prefix="/directory")

PER_PAGE = 10
# Page numbers past this are not a search anyone makes.
MAX_PAGE = 1000
OFFER_ID = "<string(maxlength=64):offer_id>"
# What the confirmation page shows, once, rides in the session (post/redirect/get): the
# first name given, the new referral's reference number (never in the address, where it
# could look someone up), or that the person already had an open referral.
SENT_NAME = "self_referral_first_name"
SENT_REFERENCE = "self_referral_reference"
SENT_ALREADY_OPEN = "self_referral_already_open"


@bp.route("", endpoint="search")
@public
def search_page():
    """Search every active offer by words, category, day, cost and distance."""
    return _search("directory/search.html", kinds=None)


@bp.route("/volunteer")
@public
def volunteer():
    """The same search, of volunteering opportunities only."""
    return _search("directory/volunteer.html", kinds={OfferKind.VOLUNTEERING})


@bp.route(f"/offers/{OFFER_ID}")
@public
def offer(offer_id: str):
    """Everything about one active offer; anything else is not found."""
    found = _active_offer(offer_id, *offer_loading())
    if found is None:
        return render_template("directory/not_found.html"), 404
    return render_template("directory/offer.html", offer=found, display=display)


@bp.route("/ask-a-connector", methods=["GET", "POST"])
@public
def self_referral():
    """"Ask a connector to contact me": a self-referral into the practice team's queue."""
    secret = current_app.config["SECRET_KEY"]
    form = SelfReferralForm(practices=_practices_with_a_team())
    if not form.is_submitted():
        form.shown.data = ratelimit.shown_token(secret)
        if (wanted := _active_offer(request.args.get("offer", ""))) is not None:
            form.what_would_help.data = f"I would like help to get to: {wanted.name}"
        return _self_referral_page(form)

    if ratelimit.honeypot_filled(request.form):
        return _pretend_sent(form)  # a bot: tell it nothing
    form.validate()
    if ratelimit.seconds_since_shown(form.shown.data, secret) is None:
        form.shown.data = ratelimit.shown_token(secret)  # keep the original time if genuine
    if form.has_errors:
        return _self_referral_page(form, status=422)
    if ratelimit.sent_too_quickly(form.shown.data, secret):
        # A person can trip this too (autofill, a page left from before): say so and keep
        # what they typed. Nothing is stored; the next send, seconds later, goes through.
        return _self_referral_page(form, status=422, too_fast=True)

    origin = ratelimit.client_origin(request.remote_addr or "", secret)
    limits = ratelimit.limits_from(current_app.config["SELF_REFERRAL_RATE_LIMIT"])
    if ratelimit.over_limit(origin, limits, utcnow()) is not None:
        # Nothing is stored; what they typed stays on the page for later.
        return _self_referral_page(form, status=429, rate_limited=True)
    try:
        referral = service.create_referral(form.to_intake(origin=origin), actor=None,
                                           actor_label="Self-referral (public site)")
    except DuplicateOpenReferral:
        db.session.rollback()
        # Said only to someone who gave the NHS number, name and date of birth on record.
        session[SENT_ALREADY_OPEN] = True
        return _pretend_sent(form)
    except IntakeInvalid as exc:
        db.session.rollback()
        form.add_errors(exc.errors)
        return _self_referral_page(form, status=422)
    db.session.commit()
    session[SENT_REFERENCE] = referral.reference
    return _pretend_sent(form)


@bp.route("/ask-a-connector/sent")
@public
def self_referral_sent():
    """The confirmation page: the first name given and the reference number, shown once."""
    return render_template("directory/self_referral_sent.html",
                           first_name=session.pop(SENT_NAME, ""),
                           reference=session.pop(SENT_REFERENCE, ""),
                           already_open=session.pop(SENT_ALREADY_OPEN, False))


def _search(template: str, *, kinds):
    form = SearchForm(request.args)
    form.validate()
    results = None
    if not form.has_errors:
        results = search(form.to_query(page=_page_number(), per_page=PER_PAGE, kinds=kinds))
        if results.unknown_postcode:
            form.postcode.errors = [UNKNOWN_POSTCODE]
            results = None
    page = render_template(template, form=form, results=results,
                           arguments=form.arguments(), display=display,
                           endpoint=request.endpoint)
    db.session.commit()  # a postcode found by the lookup service is kept for next time
    return page


def _page_number() -> int:
    number = whole_number(request.args.get("page"))
    return min(number, MAX_PAGE) if number else 1


def _active_offer(offer_id: str, *options) -> Offer | None:
    # PostgreSQL refuses a NUL in a text parameter; no id has one.
    if not offer_id or len(offer_id) > 64 or "\x00" in offer_id:
        return None
    return db.session.scalars(
        select(Offer).where(Offer.id == offer_id, Offer.status == OfferStatus.ACTIVE)
        .options(*options)
    ).first()


def _practices_with_a_team() -> list[Practice]:
    return list(db.session.scalars(
        select(Practice).where(Practice.team_id.is_not(None)).order_by(Practice.name)))


def _self_referral_page(form: SelfReferralForm, *, status: int = 200, rate_limited=False,
                        too_fast=False):
    return render_template("directory/self_referral.html", form=form,
                           rate_limited=rate_limited, too_fast=too_fast), status


def _pretend_sent(form: SelfReferralForm):
    """What success looks like, for a person and for a bot alike."""
    session[SENT_NAME] = (form.given_name.data or "").strip()[:100]
    return redirect(url_for("directory.self_referral_sent"), 303)

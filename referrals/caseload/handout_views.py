"""The chosen offers to give the person: a page to print (plain or large print) and
emailing it to them."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from referrals import access, audit
from referrals.access import HUB_ROLES, Action, allow
from referrals.caseload import handout
from referrals.caseload import workspace as workspace_page
from referrals.caseload.views import REFERRAL_ID, bp
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.extensions import db
from referrals.models import Connection, Offer, Referral, ServiceAtLocation
from referrals.notifications.outbound import SENT


def _load(referral_id: int) -> Referral:
    return access.referral_or_404(
        referral_id, selectinload(Referral.patient), selectinload(Referral.connector),
        selectinload(Referral.connections).selectinload(Connection.offer).options(
            selectinload(Offer.organisation), selectinload(Offer.schedules),
            selectinload(Offer.cost_options),
            selectinload(Offer.sites).selectinload(ServiceAtLocation.location)))


@bp.route(f"/referrals/{REFERRAL_ID}/offers-to-give")
@allow(*HUB_ROLES)
def offers_to_give(referral_id: int):
    """The chosen offers as a page to print for the person, plain or in large print."""
    referral = _load(referral_id)
    large = request.args.get("print") == "large"
    audit.record_referral("read", referral, actor=current_user, view="offers-to-give")
    page = render_template(
        "caseload/offers_to_give.html", referral=referral, large=large,
        handout=handout.build_handout(referral, today=workspace_page.today()),
        may_email=handout.may_email(referral),
        may_send=access.can(current_user, Action.RECORD_CONTACT, referral),
        email_form=FlaskForm())
    db.session.commit()  # after rendering, as the workspace sections
    return page


@bp.route(f"/referrals/{REFERRAL_ID}/offers-to-give/email", methods=["POST"])
@allow(*HUB_ROLES)
def email_offers(referral_id: int):
    """Email the chosen offers to the person, if they asked to be emailed."""
    referral = _load(referral_id)
    back = url_for("caseload.offers_to_give", referral_id=referral.id)
    if not FlaskForm().validate_on_submit():
        flash("This page had expired. Try again.", "error")
        return redirect(back)
    try:
        how = handout.email_handout(referral, actor=current_user, config=current_app.config,
                                    today=workspace_page.today())
    except (CaseworkInvalid, NotPermitted) as exc:
        db.session.rollback()
        message = (next(iter(exc.errors.values())) if isinstance(exc, CaseworkInvalid)
                   else str(exc))
        flash(f"The email was not sent: {message}.", "error")
        return redirect(back)
    db.session.commit()
    email = referral.patient.email
    flash(f"The offers are on their way to {email}." if how == SENT else
          f"No email server is set up here, so the email to {email} was kept in the "
          "development outbox, not sent.", "success" if how == SENT else "info")
    return redirect(back)

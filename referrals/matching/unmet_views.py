"""Recording a need no offer could meet, from the suggestions page, and marking it met
from the workspace (referrals/matching/unmet.py)."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from referrals import access, conflicts
from referrals.access import HUB_ROLES, Action, allow
from referrals.caseload.forms import attach_errors
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.matching import unmet
from referrals.matching.forms import DirectorySearchForm, MarkMetForm, UnmetNeedForm
from referrals.matching.views import REFERRAL_ID, _load_referral, _render_suggestions, bp
from referrals.presentation import category_name

NEED_ID = "<int(max=2147483647):need_id>"


@bp.route(f"/{REFERRAL_ID}/unmet-needs", methods=["POST"])
@allow(*HUB_ROLES)
def record_unmet_need(referral_id: int):
    """"No suitable offer found" for one of the person's needs: its category and why."""
    referral = _load_referral(referral_id, for_change=True)
    form = UnmetNeedForm()
    if not access.can(current_user, Action.RECORD_UNMET_NEED, referral):
        db.session.rollback()
        return _render_suggestions(
            _load_referral(referral_id), DirectorySearchForm(formdata=None), status=409,
            conflict=conflicts.refused("The need was not recorded: this referral is no "
                                       "longer on your caseload, or has closed.", form))
    if form.validate_on_submit():
        try:
            need = unmet.record_unmet_need(referral, actor=current_user,
                                           category=form.unmet_category.data,
                                           reason=form.unmet_reason.data)
        except CaseworkInvalid as exc:
            # The page's directory search has its own "category" field.
            attach_errors(form, {f"unmet_{name}": message
                                 for name, message in exc.errors.items()})
        else:
            db.session.commit()
            flash(f"Recorded: no suitable offer found for "
                  f"{category_name(need.category).lower()} ({need.reason.label.lower()}).",
                  "success")
            return redirect(url_for("matching.suggestions", referral_id=referral.id)
                            + "#unmet-needs")
    db.session.rollback()
    return _render_suggestions(_load_referral(referral_id), DirectorySearchForm(formdata=None),
                               status=422, unmet_form=form)


@bp.route(f"/{REFERRAL_ID}/unmet-needs/{NEED_ID}/met", methods=["POST"])
@allow(*HUB_ROLES)
def mark_unmet_need_met(referral_id: int, need_id: int):
    """An offer was found after all: the need no longer counts as unmet."""
    referral = _load_referral(referral_id, for_change=True)
    form = MarkMetForm()
    if not access.can(current_user, Action.RECORD_UNMET_NEED, referral):
        flash("That cannot be done to this referral now.", "error")
    elif not form.validate_on_submit():
        flash("This page had expired. Try again.", "error")
    else:
        try:
            need = unmet.mark_met(referral, need_id, actor=current_user)
        except LookupError:
            abort(404)
        db.session.commit()
        flash(f"{category_name(need.category)}: marked met.", "success")
    return redirect(url_for("matching.suggestions", referral_id=referral_id) + "#unmet-needs")

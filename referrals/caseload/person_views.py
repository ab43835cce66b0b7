"""The connector's changes to the person's own record, from the workspace."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from referrals import audit, ethnicity
from referrals.access import HUB_ROLES, Action, allow, can
from referrals.caseload import person, workspace
from referrals.caseload.forms import EthnicCategoryForm, attach_errors
from referrals.caseload.views import (
    REFERRAL_ID,
    _cannot,
    _conflict,
    _invalid,
    _load_referral,
    bp,
)
from referrals.errors import CaseworkInvalid, StaleReferral
from referrals.extensions import db


@bp.route(f"/referrals/{REFERRAL_ID}/ethnic-category")
@allow(*HUB_ROLES)
def ethnic_category(referral_id: int):
    """The form for the person's ethnic group (from the summary's link)."""
    referral = _load_referral(referral_id, section=workspace.ETHNIC.key)
    if not can(current_user, Action.RECORD_ETHNIC_CATEGORY, referral):
        return _cannot(referral)
    audit.record_referral("read", referral, actor=current_user, view="workspace-ethnic-group")
    page = workspace.render(referral, workspace.ETHNIC.key)
    db.session.commit()  # after rendering, as the workspace sections
    return page


@bp.route(f"/referrals/{REFERRAL_ID}/ethnic-category", methods=["POST"])
@allow(*HUB_ROLES)
def record_ethnic_category(referral_id: int):
    """Record the person's ethnic group, or that they preferred not to say."""
    referral = _load_referral(referral_id, for_change=True)
    form = EthnicCategoryForm()
    if not can(current_user, Action.RECORD_ETHNIC_CATEGORY, referral):
        return _cannot(referral)
    if form.validate_on_submit():
        try:
            person.record_ethnic_category(referral, actor=current_user,
                                          code=form.ethnic_category.data,
                                          expected_version=form.expected_version)
        except StaleReferral as exc:
            return _conflict(referral_id, exc, form, "ethnic_form",
                             Action.RECORD_ETHNIC_CATEGORY)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"Ethnic group recorded: "
                  f"{ethnicity.describe(referral.patient.ethnic_category)}.", "success")
            return redirect(url_for("caseload.workspace", referral_id=referral.id)
                            + "#ethnic-group")
    return _invalid(referral_id, ethnic_form=form)

"""Coordinator pages for details another practice sent differently from those stored
(referrals/intake/discrepancy.py): the list to check, and resolving one."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals import access, audit
from referrals.access import Action, allow
from referrals.extensions import db
from referrals.hub.forms import ResolveDiscrepancyForm
from referrals.hub.views import bp
from referrals.intake import discrepancy as discrepancies
from referrals.models import PatientDiscrepancy, Referral, Role

DISCREPANCY_ID = "<int(max=2147483647):discrepancy_id>"


@bp.route("/discrepancies")
@allow(Role.COORDINATOR)
def list_discrepancies():
    """People whose details another practice sent differently, waiting for a decision."""
    waiting = discrepancies.visible_to(current_user)
    audit.record("list", actor=current_user, entity_type="patient-discrepancy",
                 detail={"shown": [d.id for d in waiting]})
    page = render_template("hub/discrepancies.html", waiting=waiting)
    db.session.commit()  # after rendering: a commit expires the rows the page shows
    return page


@bp.route(f"/discrepancies/{DISCREPANCY_ID}", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def resolve_discrepancy(discrepancy_id: int):
    """Compare the details as stored and as sent; keep the stored ones or accept the new."""
    found = _load(discrepancy_id)
    form = ResolveDiscrepancyForm()
    if form.validate_on_submit():
        try:
            discrepancies.resolve(found, actor=current_user, accept=form.accept())
        except discrepancies.DiscrepancyInvalid as exc:
            form.resolution.errors = [*form.resolution.errors, str(exc)]
            db.session.rollback()
            found = _load(discrepancy_id)
        else:
            db.session.commit()
            flash(f"{found.resolution.label} for referral {found.referral.reference}.",
                  "success")
            return redirect(url_for("hub.list_discrepancies"))
    elif not form.is_submitted():
        audit.record("read", actor=current_user, entity_type="patient-discrepancy",
                     entity_id=found.id, patient_id=found.patient_id,
                     detail={"referral_id": found.referral_id})
    status = 422 if form.errors or form.form_errors else 200
    page = render_template("hub/resolve_discrepancy.html", discrepancy=found, form=form,
                           rows=discrepancies.rows(found))
    db.session.commit()
    return page, status


def _load(discrepancy_id: int) -> PatientDiscrepancy:
    """A discrepancy on a referral the coordinator may resolve; anything else is 404."""
    found = db.session.scalars(
        select(PatientDiscrepancy).where(PatientDiscrepancy.id == discrepancy_id).options(
            selectinload(PatientDiscrepancy.patient),
            selectinload(PatientDiscrepancy.referral).selectinload(Referral.practice),
            selectinload(PatientDiscrepancy.source_practice),
            selectinload(PatientDiscrepancy.stored_practice),
            selectinload(PatientDiscrepancy.resolved_by))
    ).first()
    if found is None or not access.can(current_user, Action.RESOLVE_DISCREPANCY, found.referral):
        abort(404)
    return found

"""Connector views: the triage queue, my caseload, and one referral's workspace."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from referrals import access, audit, conflicts, revisions
from referrals.access import HUB_ROLES, Action, allow
from referrals.caseload import listing, service
from referrals.caseload import workspace as workspace_page
from referrals.caseload.forms import (
    AcceptForm,
    CloseForm,
    ContactForm,
    FollowUpForm,
    FollowUpOutcomeForm,
    RejectForm,
    RisksForm,
    SharingForm,
    attach_errors,
    has_errors,
)
from referrals.errors import CaseworkInvalid, NotPermitted, StaleReferral
from referrals.extensions import db
from referrals.models import (
    FollowUpStatus,
    Referral,
    ReferralStatus,
    Role,
    utcnow,
)

bp = Blueprint("caseload", __name__, url_prefix="/caseload")

REFERRAL_ID = "<int(max=2147483647):referral_id>"
FOLLOW_UP_ID = "<int(max=2147483647):follow_up_id>"


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


@bp.route("")
@allow(Role.CONNECTOR)
def my_caseload():
    """The connector's active referrals, what needs doing now at the top."""
    status = _status_arg(request.args.get("status"))
    overdue_only = request.args.get("overdue") == "1"
    today = _today()
    result = listing.caseload(current_user, today=today, status=status, overdue_only=overdue_only)
    audit.record("list", actor=current_user, entity_type="referral",
                 detail={"view": "caseload", "shown": [row.referral.id for row in result.rows]})
    # Render, then commit: committing first would expire every row just read, and
    # the template would reload each referral and person one by one.
    page = render_template("caseload/my_caseload.html", caseload=result, status=status,
                           overdue_only=overdue_only, today=today)
    db.session.commit()
    return page


@bp.route("/queue")
@allow(*HUB_ROLES)
def triage_queue():
    """The team's received, unassigned referrals, urgent first then oldest."""
    queue = listing.triage_queue(current_user)
    audit.record("list", actor=current_user, entity_type="referral",
                 detail={"view": "triage-queue",
                         "shown": [r.id for r in queue.unassigned + queue.routed_to_me]})
    page = render_template("caseload/triage_queue.html", queue=queue, today=_today(),
                           can_accept=access.holds_caseload(current_user))
    db.session.commit()  # after rendering, as in my_caseload
    return page


@bp.route(f"/referrals/{REFERRAL_ID}")
@allow(*HUB_ROLES)
def workspace(referral_id: int):
    """A referral's summary: the person, its status, what matters and what to do next."""
    return _section(referral_id, workspace_page.SUMMARY.key)


@bp.route(f"/referrals/{REFERRAL_ID}/contacts")
@allow(*HUB_ROLES)
def contacts(referral_id: int):
    """The referral's contact log, and recording a contact."""
    return _section(referral_id, workspace_page.CONTACTS.key)


@bp.route(f"/referrals/{REFERRAL_ID}/follow-ups")
@allow(*HUB_ROLES)
def follow_ups(referral_id: int):
    """The referral's follow-ups, scheduled and past, and scheduling one."""
    return _section(referral_id, workspace_page.FOLLOW_UPS.key)


@bp.route(f"/referrals/{REFERRAL_ID}/sharing-and-risks")
@allow(*HUB_ROLES)
def sharing_and_risks(referral_id: int):
    """What the practice may see, and the risks to anyone visiting."""
    return _section(referral_id, workspace_page.SHARING.key)


@bp.route(f"/referrals/{REFERRAL_ID}/history")
@allow(*HUB_ROLES)
def history(referral_id: int):
    """The referral's timeline, oldest first."""
    return _section(referral_id, workspace_page.HISTORY.key)


def _section(referral_id: int, section: str):
    referral = workspace_page.load(referral_id, section)
    audit.record_referral("read", referral, actor=current_user, view=f"workspace-{section}")
    page = workspace_page.render(referral, section)
    db.session.commit()  # after rendering, as in my_caseload
    return page


@bp.route(f"/referrals/{REFERRAL_ID}/accept", methods=["POST"])
@allow(Role.CONNECTOR)
def accept(referral_id: int):
    """Accept a referral from the queue onto the connector's own caseload."""
    referral = access.visible_referral(referral_id, for_change=True)
    if referral is None:  # a colleague took it: connectors see the queue and their own
        flash("That referral is no longer in the team queue: someone else has taken it, "
              "or it has been closed.", "error")
        return redirect(url_for("caseload.triage_queue"))
    form = AcceptForm()
    if not form.validate_on_submit():
        flash("This page had expired. Try again.", "error")
        return redirect(url_for("caseload.triage_queue"))
    try:
        service.accept_referral(referral, actor=current_user,
                                expected_version=form.expected_version)
    except (StaleReferral, NotPermitted) as exc:
        db.session.rollback()
        changes = exc.changes if isinstance(exc, StaleReferral) else []
        flash(f"Referral {referral.reference} could not be accepted: someone else changed it. "
              + (f"{conflicts.sentence(changes)}." if changes else
                 "It may have been taken already."), "error")
        return redirect(url_for("caseload.triage_queue"))
    db.session.commit()
    flash(f"Referral {referral.reference} accepted. It is on your caseload.", "success")
    return redirect(url_for("caseload.workspace", referral_id=referral.id))


@bp.route(f"/referrals/{REFERRAL_ID}/reject", methods=["POST"])
@allow(*HUB_ROLES)
def reject(referral_id: int):
    """Reject a received referral as not suitable, with a reason."""
    referral = _load_referral(referral_id, for_change=True)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            service.reject_referral(referral, actor=current_user, reason=form.reason.data,
                                    expected_version=form.expected_version)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        except StaleReferral as exc:
            return _conflict(referral_id, exc, form, "reject_form", Action.REJECT)
        except NotPermitted:
            return _refused(referral_id, form, "This referral can no longer be rejected.",
                            "summary")
        else:
            db.session.commit()
            flash(f"Referral {referral.reference} rejected.", "success")
            return redirect(url_for("caseload.triage_queue"))
    return _invalid(referral_id, reject_form=form)


@bp.route(f"/referrals/{REFERRAL_ID}/contacts", methods=["POST"])
@allow(*HUB_ROLES)
def record_contact(referral_id: int):
    """Log a contact or an attempt."""
    referral = _load_referral(referral_id, for_change=True)
    form = ContactForm()
    if not access.can(current_user, Action.RECORD_CONTACT, referral):
        return _refused(referral_id, form, "The contact could not be recorded: this referral "
                        "is no longer on your caseload, or has closed.", "contacts")
    if form.validate_on_submit():
        at, errors = form.when(current_app.config["TIMEZONE"])
        minutes, duration_errors = form.duration_minutes()
        errors |= duration_errors
        try:
            if errors:
                raise CaseworkInvalid(errors)
            service.record_contact(
                referral, actor=current_user, at=at, method=form.method_choice,
                outcome=form.outcome_choice, duration_minutes=minutes, notes=form.notes.data,
            )
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("Contact recorded.", "success")
            return redirect(url_for("caseload.contacts", referral_id=referral.id) + "#contacts")
    return _invalid(referral_id, contact_form=form)


@bp.route(f"/referrals/{REFERRAL_ID}/follow-ups", methods=["POST"])
@allow(*HUB_ROLES)
def schedule_follow_up(referral_id: int):
    """Schedule the next contact."""
    referral = _load_referral(referral_id, for_change=True)
    form = FollowUpForm()
    if not access.can(current_user, Action.RECORD_CONTACT, referral):
        return _refused(referral_id, form, "The follow-up could not be scheduled: this referral "
                        "is no longer on your caseload, or has closed.", "follow-ups")
    if form.validate_on_submit():
        try:
            service.schedule_follow_up(
                referral, actor=current_user, due_on=form.due_on.data,
                method=form.method_choice, purpose=form.purpose.data or "", today=_today(),
            )
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("Follow-up scheduled.", "success")
            return redirect(url_for("caseload.follow_ups", referral_id=referral.id)
                            + "#follow-ups")
    return _invalid(referral_id, follow_up_form=form)


@bp.route(f"/referrals/{REFERRAL_ID}/follow-ups/{FOLLOW_UP_ID}", methods=["GET", "POST"])
@allow(*HUB_ROLES)
def update_follow_up(referral_id: int, follow_up_id: int):
    """Mark a follow-up done or missed, or reschedule it."""
    posted = request.method == "POST"
    referral = _load_referral(referral_id, for_change=posted, section="follow-ups")
    follow_up = next((f for f in referral.follow_ups if f.id == follow_up_id), None)
    if follow_up is None:
        abort(404)
    form = FollowUpOutcomeForm()
    if (not access.can(current_user, Action.RECORD_CONTACT, referral)
            or follow_up.status is not FollowUpStatus.SCHEDULED):
        if not posted:
            return _cannot(referral)
        # Marked meanwhile by a colleague (or the referral closed): say so, keep the note.
        changes = (revisions.changes_since(referral, form.expected_version)
                   if form.expected_version is not None else [])
        db.session.rollback()
        referral = _load_referral(referral_id, section="follow-ups")
        return _render_workspace(referral, 409, section="follow-ups", conflict=conflicts.refused(
            f"The follow-up due {follow_up.due_on:%-d %b %Y} is already "
            f"{follow_up.status.label.lower()}, or the referral has closed.", form, changes))
    if form.is_submitted():
        if form.validate():
            try:
                _apply_follow_up_outcome(referral, follow_up, form)
            except CaseworkInvalid as exc:
                attach_errors(form, exc.errors)
            else:
                db.session.commit()
                flash("Follow-up updated.", "success")
                return redirect(
                    url_for("caseload.follow_ups", referral_id=referral.id) + "#follow-ups")
        db.session.rollback()
        referral = _load_referral(referral_id, section="follow-ups")
        follow_up = next(f for f in referral.follow_ups if f.id == follow_up_id)
    else:
        form.started_from(referral.version)
        audit.record_referral("read", referral, actor=current_user)
        db.session.commit()
    return render_template("caseload/update_follow_up.html", referral=referral,
                           follow_up=follow_up, form=form), (422 if has_errors(form) else 200)


def _apply_follow_up_outcome(referral, follow_up, form) -> None:
    outcome = form.outcome.data
    if outcome == "rescheduled":
        service.reschedule_follow_up(referral, follow_up, actor=current_user,
                                     due_on=form.new_due_on.data, note=form.note.data,
                                     today=_today())
    elif outcome in ("done", "missed"):
        service.close_follow_up(referral, follow_up, actor=current_user,
                                status=FollowUpStatus(outcome), note=form.note.data)
    else:
        raise CaseworkInvalid({"outcome": "Select done, missed or reschedule"})


@bp.route(f"/referrals/{REFERRAL_ID}/sharing", methods=["POST"])
@allow(*HUB_ROLES)
def set_sharing(referral_id: int):
    """Record whether the person wants only coded information to go to the practice."""
    referral = _load_referral(referral_id, for_change=True)
    form = SharingForm()
    if not access.can(current_user, Action.SET_SHARING, referral):
        return _cannot(referral)
    if form.validate_on_submit():
        try:
            service.set_coded_only(referral, actor=current_user,
                                   coded_only=form.coded_only.data,
                                   expected_version=form.expected_version)
        except StaleReferral as exc:
            return _conflict(referral_id, exc, form, "sharing_form", Action.SET_SHARING)
        else:
            db.session.commit()
            flash("Only coded information will go to the practice." if referral.coded_only
                  else "The practice will see what is written about the person again.",
                  "success")
            return redirect(url_for("caseload.sharing_and_risks", referral_id=referral.id)
                            + "#sharing")
    return _invalid(referral_id, sharing_form=form)


@bp.route(f"/referrals/{REFERRAL_ID}/risks", methods=["POST"])
@allow(*HUB_ROLES)
def record_risks(referral_id: int):
    """Record the risks the referrer did not state (or that there are none)."""
    referral = _load_referral(referral_id, for_change=True)
    form = RisksForm()
    if not access.can(current_user, Action.RECORD_RISKS, referral):
        return _cannot(referral)
    if form.validate_on_submit():
        try:
            service.record_risks(
                referral, actor=current_user, risks=(form.risks.data or "").splitlines(),
                no_known_risks=bool(form.no_known_risks.data),
                expected_version=form.expected_version)
        except StaleReferral as exc:
            return _conflict(referral_id, exc, form, "risks_form", Action.RECORD_RISKS,
                             still=lambda now: not now.risks_stated)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("Risks recorded.", "success")
            return redirect(url_for("caseload.sharing_and_risks", referral_id=referral.id)
                            + "#visit-risks")
    return _invalid(referral_id, risks_form=form)


@bp.route(f"/referrals/{REFERRAL_ID}/close", methods=["GET", "POST"])
@allow(*HUB_ROLES)
def close(referral_id: int):
    """Decline, complete, or close as unable to contact, with a closing note."""
    posted = request.method == "POST"
    referral = _load_referral(referral_id, for_change=posted)
    form = CloseForm()
    if not access.can(current_user, Action.CLOSE, referral):
        if not posted:
            return _cannot(referral)
        return _refused(referral_id, form, "This referral can no longer be closed from here: "
                        "it has closed already, or is no longer on your caseload.", "summary")
    form.offer(service.closings_offered(referral))
    conflict = None
    if not form.is_submitted():
        form.coded_only.data = referral.coded_only  # the choice made so far
    if form.is_submitted():
        if form.validate():
            try:
                service.close_referral(referral, form.closing.data or "", actor=current_user,
                                       note=form.note.data, gp_actions=form.gp_actions.data,
                                       coded_only=form.coded_only.data,
                                       expected_version=form.expected_version)
            except CaseworkInvalid as exc:
                attach_errors(form, exc.errors)
            except StaleReferral as exc:
                conflict = conflicts.stale(exc, form)
            else:
                db.session.commit()
                flash(f"Referral {referral.reference} closed: "
                      f"{referral.status.label.lower()}.", "success")
                return redirect(url_for("caseload.workspace", referral_id=referral.id))
        db.session.rollback()
        referral = _load_referral(referral_id)
        form.offer(service.closings_offered(referral))
        if conflict is not None:
            form.started_from(referral.version)
    else:
        form.started_from(referral.version)
        audit.record_referral("read", referral, actor=current_user)
        db.session.commit()
    status = 409 if conflict else 422 if has_errors(form) else 200
    return render_template("caseload/close.html", referral=referral, form=form,
                           conflict=conflict), status


# --- shared ----------------------------------------------------------------------


def _load_referral(referral_id: int, *, for_change: bool = False,
                   section: str = "summary") -> Referral:
    return workspace_page.load(referral_id, section, for_change=for_change)


def _render_workspace(referral: Referral, status: int = 200, *, section: str = "summary",
                      **forms):
    return workspace_page.render(referral, section, status, **forms)


def _section_of(forms: dict) -> str:
    return next((workspace_page.FORM_SECTION[name] for name in forms
                 if name in workspace_page.FORM_SECTION), "summary")


def _invalid(referral_id: int, **forms):
    """Show the workspace again with the failing form's errors, changing nothing."""
    db.session.rollback()
    section = _section_of(forms)
    return _render_workspace(_load_referral(referral_id, section=section), 422,
                             section=section, **forms)


def _conflict(referral_id: int, exc: StaleReferral, form, name: str, action: Action,
              still=None):
    """Someone changed the referral since the form was rendered: show what changed and
    the form as typed, based on the current version if it can still be sent (409);
    `still(referral)` says whether the change still makes sense beyond being allowed."""
    db.session.rollback()
    section = workspace_page.FORM_SECTION[name]
    referral = _load_referral(referral_id, section=section)
    still_possible = access.can(current_user, action, referral) and (
        still is None or still(referral))
    if still_possible:
        form.started_from(referral.version)
    return _render_workspace(referral, 409, section=section,
                             conflict=conflicts.stale(exc, form,
                                                                     resend=still_possible),
                             **({name: form} if still_possible else {}))


def _refused(referral_id: int, form, message: str, section: str):
    """The change can no longer be made: the workspace, what changed since the form was
    rendered, and what was typed, so none of it is lost (409)."""
    referral = _load_referral(referral_id)
    changes = (revisions.changes_since(referral, form.expected_version)
               if form.expected_version is not None else [])
    db.session.rollback()
    referral = _load_referral(referral_id, section=section)
    return _render_workspace(referral, 409, section=section,
                             conflict=conflicts.refused(message, form, changes))


def _cannot(referral: Referral):
    flash("That cannot be done to this referral now.", "error")
    return redirect(url_for("caseload.workspace", referral_id=referral.id))


def _status_arg(value: str | None) -> ReferralStatus | None:
    try:
        status = ReferralStatus(value) if value else None
    except ValueError:
        return None
    return status if status in access.ACTIVE_STATUSES else None


from referrals.caseload import handout_views, person_views  # noqa: F401  (their routes, on this blueprint)

"""The hub's side of volunteer matching: ask for a volunteer on a referral, see open
requests and overdue check-ins, rank and propose volunteers, check in, end a match."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from referrals import access, audit, conflicts
from referrals.access import HUB_ROLES, allow
from referrals.caseload import workspace
from referrals.caseload.forms import attach_errors
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.extensions import db
from referrals.models import MatchStatus, Role, Volunteer, VolunteerMatch, VolunteerRequest
from referrals.volunteering import (  # noqa: F401 (concern_views, own_views: their routes)
    concern_views,
    concerns,
    own_views,
    service,
)
from referrals.volunteering.blueprint import MATCH_ID, PREFIX, REFERRAL_ID, REQUEST_ID, bp, today
from referrals.volunteering.forms import (
    CheckInForm,
    CloseRequestForm,
    EndMatchForm,
    ProposeForm,
    VolunteerRequestForm,
)

__all__ = ["bp"]


@bp.route(f"/caseload/referrals/{REFERRAL_ID}/volunteers", methods=["GET", "POST"])
@allow(*HUB_ROLES)
def for_referral(referral_id: int):
    """The referral's volunteer requests, and the form to ask for a volunteer."""
    posted = request.method == "POST"
    referral = access.referral_or_404(referral_id, for_change=posted)
    may_ask = access.may_ask_for_volunteer(current_user, referral)
    form = VolunteerRequestForm() if may_ask else None
    status, conflict = 200, None
    if posted and form is None:
        conflict, status = conflicts.refused(
            "No volunteer was asked for: this referral is no longer on your caseload, or "
            "has closed.", VolunteerRequestForm()), 409
    elif posted:
        if form.validate():
            try:
                made = service.create_request(
                    referral, need=form.need.data, when=form.when.data or [],
                    notes=form.notes.data or "", actor=current_user)
            except CaseworkInvalid as exc:
                attach_errors(form, exc.errors)
            except NotPermitted as exc:  # it closed, or moved to a colleague, meanwhile
                conflict, status = conflicts.refused(str(exc), form), 409
            else:
                db.session.commit()
                flash(f"Volunteer request recorded: {made.need.label.lower()}.", "success")
                return redirect(url_for("volunteering.request_detail", request_id=made.id))
        db.session.rollback()
        referral = access.referral_or_404(referral_id)
        status = 409 if conflict else 422
    audit.record_referral("read", referral, actor=current_user, view="volunteer-requests")
    requests = service.requests_for(referral)
    # Each request's proposals and matches still waiting or running, to see at a glance.
    latest = {r.id: [m for m in service.matches_for(r) if m.status in service.RUNNING]
              for r in requests}
    page = render_template("volunteering/for_referral.html", referral=referral, form=form,
                           requests=requests, latest=latest, tabs=workspace.TABS,
                           conflict=conflict,
                           section=workspace.VOLUNTEERS)
    db.session.commit()
    return page, status


@bp.route(f"{PREFIX}/requests")
@allow(*HUB_ROLES)
def requests():
    """Open requests (from referrals and the phone line) and check-ins due."""
    day = today()
    page = render_template("volunteering/requests.html",
                           open_requests=service.open_requests(current_user),
                           overdue=service.overdue_check_ins(current_user, day), today=day,
                           concerns=concerns.recent(current_user),
                           first_name=service.first_name)
    return page


def _load_request(request_id: int) -> VolunteerRequest:
    found = db.session.get(VolunteerRequest, request_id)
    if found is None or not access.may_work_request(current_user, found):
        abort(404)
    return found


@bp.route(f"{PREFIX}/requests/{REQUEST_ID}")
@allow(*HUB_ROLES)
def request_detail(request_id: int):
    """One request: the explained ranking of volunteers, and its matches."""
    return _render_request(_load_request(request_id))


def _render_request(volunteer_request: VolunteerRequest, status: int = 200, *,
                    failed: tuple[int, str, object] | None = None,
                    conflict: conflicts.Conflict | None = None, close_form=None):
    ranked, excluded = service.rank_volunteers(volunteer_request)
    matches = service.matches_for(volunteer_request)
    forms = {}
    for m in matches:
        if m.status is MatchStatus.ACCEPTED:
            forms[m.id, "check_in"] = CheckInForm(formdata=None)
        if m.status in service.RUNNING:
            forms[m.id, "end"] = EndMatchForm(formdata=None)
        for form in [f for (mid, _), f in forms.items() if mid == m.id]:
            form.started_from(m.version)
    if failed is not None:
        forms[failed[0], failed[1]] = failed[2]
    for (match_id, _), form in forms.items():
        _own_ids(form, match_id)
    if close_form is None and volunteer_request.status != "closed" \
            and not any(m.status in service.RUNNING for m in matches):
        close_form = CloseRequestForm(formdata=None)
        close_form.started_from(volunteer_request.version)
    if volunteer_request.referral is not None:
        audit.record_referral("read", volunteer_request.referral, actor=current_user,
                              view="volunteer-request", request_id=volunteer_request.id)
    else:
        audit.record("read", actor=current_user, entity_type="volunteer_request",
                     entity_id=volunteer_request.id)
    page = render_template(
        "volunteering/request.html", vr=volunteer_request, ranked=ranked, excluded=excluded,
        matches=matches, forms=forms, failed=failed, conflict=conflict, close_form=close_form,
        check_ins={m.id: service.check_ins_for(m) for m in matches},
        first_name=service.first_name(volunteer_request), today=today(),
        when=service.ranking.slot_words(volunteer_request.when))
    db.session.commit()
    return page, status


@bp.route(f"{PREFIX}/requests/{REQUEST_ID}/proposals", methods=["POST"])
@allow(*HUB_ROLES)
def propose(request_id: int):
    """Propose a volunteer from the ranking: they are asked to accept or decline."""
    volunteer_request = _load_request(request_id)
    form = ProposeForm()
    volunteer = db.session.get(Volunteer, form.volunteer) if form.volunteer else None
    if not form.validate() or volunteer is None:
        return _render_request(volunteer_request, 422, conflict=conflicts.Conflict(
            "The volunteer was not proposed", "Choose a volunteer from the list."))
    try:
        match = service.propose(volunteer_request, volunteer, actor=current_user)
    except (CaseworkInvalid, NotPermitted) as exc:
        db.session.rollback()
        return _render_request(_load_request(request_id), 409, conflict=conflicts.Conflict(
            "The volunteer was not proposed",
            "; ".join(exc.errors.values()) if isinstance(exc, CaseworkInvalid) else str(exc)))
    db.session.commit()
    flash(f"{match.volunteer.name} has been asked. You will be told when they answer.",
          "success")
    return redirect(url_for("volunteering.request_detail", request_id=request_id) + "#matches")


@bp.route(f"{PREFIX}/requests/{REQUEST_ID}/close", methods=["POST"])
@allow(*HUB_ROLES)
def close_request(request_id: int):
    """The person no longer needs a volunteer: close the request, saying why."""
    volunteer_request = _load_request(request_id)
    form = CloseRequestForm()
    if form.validate():
        try:
            service.close_request(volunteer_request, reason=form.reason.data or "",
                                  actor=current_user, expected_version=form.expected_version)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("The request is closed.", "success")
            return redirect(url_for("volunteering.requests"))
    db.session.rollback()
    return _render_request(_load_request(request_id), 422, close_form=form)


def _own_ids(form, match_id: int) -> None:
    """Several matches' forms share a page: each field's id names its match (the names
    stay, so what is posted reads the same)."""
    for field in form:
        if field.name not in ("csrf_token", "version"):
            field.id = f"{field.name}-{match_id}"


def _load_match(match_id: int) -> VolunteerMatch:
    """A match of a request the hub user works, or the signed-in volunteer's own; else 404."""
    match = db.session.get(VolunteerMatch, match_id)
    if match is None or not access.may_end_match(current_user, match):
        abort(404)
    return match


@bp.route(f"{PREFIX}/matches/{MATCH_ID}/check-ins", methods=["POST"])
@allow(*HUB_ROLES)
def check_in(match_id: int):
    """Record how a running match is going; sets the next check-in."""
    match = _load_match(match_id)
    form = CheckInForm()
    if form.validate():
        try:
            service.record_check_in(match, rating=form.rating.data, note=form.note.data or "",
                                    next_on=form.next_on.data, actor=current_user,
                                    today=today(), expected_version=form.expected_version)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        except service.StaleMatch as exc:
            return _after_stale(match_id, exc, form)
        else:
            db.session.commit()
            flash("Check-in recorded.", "success")
            return redirect(url_for("volunteering.request_detail",
                                    request_id=match.request_id) + f"#match-{match.id}")
    db.session.rollback()
    match = _load_match(match_id)
    return _render_request(match.request, 422, failed=(match.id, "check_in", form))


@bp.route(f"{PREFIX}/matches/{MATCH_ID}/end", methods=["POST"])
@allow(Role.CONNECTOR, Role.COORDINATOR, Role.VOLUNTEER)
def end(match_id: int):
    """Either side ends (or withdraws) a match, with the reason; its history stays."""
    match = _load_match(match_id)
    form = EndMatchForm()
    own = access.is_own_match(current_user, match)
    if form.validate():
        try:
            service.end_match(match, reason=form.reason.data or "", actor=current_user,
                              expected_version=form.expected_version)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        except service.StaleMatch as exc:
            if own:
                return own_views.after_stale(match_id, exc, form)
            return _after_stale(match_id, exc, form)
        else:
            db.session.commit()
            flash("The match has ended. Everything recorded on it is kept.", "success")
            if own:
                return redirect(url_for("volunteering.match", match_id=match.id))
            return redirect(url_for("volunteering.request_detail",
                                    request_id=match.request_id) + f"#match-{match.id}")
    db.session.rollback()
    match = _load_match(match_id)
    if own:
        return own_views.render_match(match, 422, end_form=form)
    return _render_request(match.request, 422, failed=(match.id, "end", form))


def _after_stale(match_id: int, exc: service.StaleMatch, form):
    db.session.rollback()
    match = _load_match(match_id)
    return _render_request(match.request, 409, conflict=conflicts.Conflict(
        "Someone else changed this match", str(exc), [], conflicts.typed(form)))


"""The volunteer's side: their matches, answering a proposal, and logging hours. A volunteer
sees a person's first name, what they need, when, roughly where and (once accepted) how
to reach them; never health information, reasons, risks or an NHS number."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from referrals import access, audit, conflicts
from referrals.access import allow
from referrals.caseload.forms import attach_errors
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.models import MatchStatus, Role, Volunteer, VolunteerMatch
from referrals.volunteering import service
from referrals.volunteering.blueprint import MATCH_ID, PREFIX, bp, today
from referrals.volunteering.forms import AnswerForm, EndMatchForm, HoursForm


@bp.route(f"{PREFIX}/matches")
@allow(Role.VOLUNTEER)
def matches():
    """The signed-in volunteer's matches: waiting for an answer, running, and past."""
    own = [service.for_volunteer(m) for m in service.own_matches(current_user)]
    for shown in own:
        _audit_read(shown.match)
    page = render_template(
        "volunteering/matches.html",
        waiting=[s for s in own if s.match.status is MatchStatus.PROPOSED],
        running=[s for s in own if s.match.status is MatchStatus.ACCEPTED],
        past=[s for s in own if s.match.status in (MatchStatus.DECLINED, MatchStatus.ENDED)])
    db.session.commit()
    return page


def page_section(volunteer: Volunteer) -> dict:
    """The volunteer's own page (volunteers.views.PAGE_SECTIONS): the matches waiting for
    their answer and those running, shown by templates/volunteers/_matches.html. The same
    few words as their matches page (first name, need, when): never health information.
    Each match shown names a person, so each is an audited read."""
    shown = [service.for_volunteer(m) for m in service.own_matches(current_user)
             if m.volunteer_id == volunteer.id and m.status in service.RUNNING]
    for each in shown:
        _audit_read(each.match)
    return {"my_matches": shown}


def _audit_read(match: VolunteerMatch) -> None:
    referral = match.request.referral
    if referral is not None:
        audit.record_referral("read", referral, actor=current_user, view="volunteer-match",
                              match_id=match.id)
    else:
        audit.record("read", actor=current_user, entity_type="volunteer_request",
                     entity_id=match.request_id, detail={"match_id": match.id})


def _own_match(match_id: int) -> VolunteerMatch:
    match = db.session.get(VolunteerMatch, match_id)
    if match is None or not access.is_own_match(current_user, match):
        abort(404)
    return match


@bp.route(f"{PREFIX}/matches/{MATCH_ID}")
@allow(Role.VOLUNTEER)
def match(match_id: int):
    """One of the volunteer's matches: answer it, log hours, end it, raise a concern."""
    return render_match(_own_match(match_id))


def render_match(match: VolunteerMatch, status: int = 200, *, answer_form=None,
                 hours_form=None, end_form=None, conflict=None):
    running = match.status is MatchStatus.ACCEPTED
    if answer_form is None and match.status is MatchStatus.PROPOSED:
        answer_form = AnswerForm(formdata=None)
        answer_form.started_from(match.version)
    if end_form is None and match.status in service.RUNNING:
        end_form = EndMatchForm(formdata=None)
        end_form.started_from(match.version)
    if hours_form is None and running:
        hours_form = HoursForm(formdata=None)
    _audit_read(match)
    page = render_template(
        "volunteering/match.html", shown=service.for_volunteer(match), match=match,
        answer_form=answer_form, hours_form=hours_form, end_form=end_form,
        hours=service.hours_for(match), conflict=conflict,
        may_raise_concern=access.may_raise_concern_about_match(current_user, match))
    db.session.commit()
    return page, status


@bp.route(f"{PREFIX}/matches/{MATCH_ID}/answer", methods=["POST"])
@allow(Role.VOLUNTEER)
def answer(match_id: int):
    """Accept or decline a proposed match."""
    match = _own_match(match_id)
    form = AnswerForm()
    if form.validate():
        try:
            if form.answer.data not in ("accept", "decline"):
                raise CaseworkInvalid({"answer": "Select yes if you can help"})
            service.answer(match, accept=form.answer.data == "accept",
                           note=form.note.data or "", actor=current_user, today=today(),
                           expected_version=form.expected_version)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        except service.StaleMatch as exc:
            return after_stale(match_id, exc, form)
        else:
            db.session.commit()
            flash("Thank you: you have accepted. The hub will be in touch."
                  if match.status is MatchStatus.ACCEPTED
                  else "Thank you: you have declined this match.", "success")
            return redirect(url_for("volunteering.match", match_id=match.id))
    db.session.rollback()
    return render_match(_own_match(match_id), 422, answer_form=form)


@bp.route(f"{PREFIX}/matches/{MATCH_ID}/hours", methods=["POST"])
@allow(Role.VOLUNTEER)
def log_hours(match_id: int):
    """Log time given on an accepted match."""
    match = _own_match(match_id)
    form = HoursForm()
    valid, hours = form.validate(), form.hours_given
    if hours is None and (form.hours.data or "").strip():
        attach_errors(form, {"hours": "Enter the hours as a number, for example 1.5"})
    elif valid:
        try:
            service.log_hours(match, on=form.on.data, hours=hours, note=form.note.data or "",
                              actor=current_user, today=today())
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"{hours:g} hours logged. Thank you.", "success")
            return redirect(url_for("volunteering.match", match_id=match.id) + "#hours")
    db.session.rollback()
    return render_match(_own_match(match_id), 422, hours_form=form)


def after_stale(match_id: int, exc: service.StaleMatch, form):
    """Someone changed the match first (the connector withdrew it, say): say so, and give
    back what was typed."""
    db.session.rollback()
    return render_match(_own_match(match_id), 409, conflict=conflicts.Conflict(
        "Someone else changed this match", str(exc), [], conflicts.typed(form)))

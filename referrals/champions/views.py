"""Community champions: the coordinator's patches and suggestion review (/hub/…), and the
champion's own patch page (/champion), signed in with their volunteer account."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from referrals import access, audit
from referrals.access import allow
from referrals.champions import service
from referrals.champions.forms import DecisionForm, PatchForm, SuggestionForm
from referrals.extensions import db
from referrals.models import ChampionSuggestion, Role, SuggestionStatus, Volunteer

bp = Blueprint("champions", __name__)

ID = "<int(max=2147483647):{}>"


# --- the coordinator -------------------------------------------------------------


@bp.route("/hub/champions")
@allow(Role.COORDINATOR)
def patches():
    """The team's approved volunteers, and which of them champion which districts."""
    volunteers = service.team_volunteers(current_user)
    audit.record("list", actor=current_user, entity_type="volunteer",
                 detail={"page": "champions", "shown": [v.id for v in volunteers]})
    html = render_template("champions/patches.html", volunteers=volunteers)
    db.session.commit()  # the audit event of the list
    return html


@bp.route("/hub/champions/" + ID.format("volunteer_id"), methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def set_patch(volunteer_id: int):
    """Set or clear one volunteer's patch (postcode districts)."""
    volunteer = _team_volunteer(volunteer_id)
    form = PatchForm()
    status = 200
    if not form.is_submitted():
        form.districts.data = ", ".join(volunteer.champion_districts or [])
        form.started_from(volunteer.version)
    else:
        def change() -> str:
            service.set_patch(volunteer, service.parse_districts(form.districts.data),
                              actor=current_user, expected_version=form.expected_version)
            if volunteer.champion_districts:
                return (f"{volunteer.name} is now a community champion for "
                        f"{', '.join(volunteer.champion_districts)}.")
            return f"{volunteer.name} is no longer a community champion."

        volunteer, status = _save(form, change, lambda: _team_volunteer(volunteer_id))
        if status == 303:
            return redirect(url_for("champions.patches"), 303)
    return render_template("champions/set_patch.html", volunteer=volunteer, form=form), status


@bp.route("/hub/suggestions")
@allow(Role.COORDINATOR)
def suggestions():
    """Champions' suggestions: those waiting first, then the latest decided."""
    return render_template("champions/suggestions.html",
                           suggestions=service.suggestions_to_review(current_user))


@bp.route("/hub/suggestions/" + ID.format("suggestion_id"), methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def review(suggestion_id: int):
    """One suggestion: approve it (it goes into the directory) or say why not."""
    suggestion = _team_suggestion(suggestion_id)
    form = DecisionForm()
    status = 200
    if not form.is_submitted():
        form.started_from(suggestion.version)
        audit.record("read", actor=current_user, entity_type="champion_suggestion",
                     entity_id=suggestion.id)
        db.session.commit()
    else:
        def decide() -> str:
            if form.decision.data == "approve":
                offer = service.approve(suggestion, actor=current_user,
                                        expected_version=form.expected_version)
                return f"Approved: {offer.name} is in the directory."
            if form.decision.data == "reject":
                service.reject(suggestion, form.reason.data or "", actor=current_user,
                               expected_version=form.expected_version)
                return "Suggestion not approved; the champion can see your reason."
            raise service.ChampionInvalid({"decision": "Select your decision"})

        suggestion, status = _save(form, decide, lambda: _team_suggestion(suggestion_id))
        if status == 303:
            return redirect(url_for("champions.suggestions"), 303)
    return render_template("champions/review.html", suggestion=suggestion, form=form,
                           decided=suggestion.status is not SuggestionStatus.PENDING), status


def _save(form, change, reload):
    """A submitted form: if valid, `change()` (it returns the message to flash) committed,
    and (None, 303). Otherwise, or when refused, the record reloaded and 422, or 409 on a
    conflict, with the form on the record's new version so what was typed is kept."""
    conflict = None
    if form.validate():
        try:
            message = change()
        except service.StaleRecord as exc:
            conflict = str(exc)
        except service.ChampionInvalid as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(message, "success")
            return None, 303
    db.session.rollback()
    record = reload()
    if conflict:
        form.form_errors.append(conflict)
        form.started_from(record.version)
    return record, 409 if conflict else 422


# --- the champion ----------------------------------------------------------------


@bp.route("/champion")
@allow(Role.VOLUNTEER)
def patch():
    """The champion's patch: its listings, its unmet needs in counts, their suggestions."""
    champion = access.champion_record(current_user)
    if champion is None:
        return render_template("champions/not_a_champion.html")
    return render_template("champions/patch.html", champion=champion,
                           listings=service.patch_listings(champion),
                           needs=service.patch_unmet_needs(champion),
                           suggestions=service.own_suggestions(champion))


@bp.route("/champion/suggest", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def suggest():
    """Suggest a new group in the patch, or a correction to one of its listings."""
    champion = access.champion_record(current_user)
    if champion is None:
        abort(404)
    listings = service.patch_listings(champion)
    form = SuggestionForm(listings)
    if form.is_submitted() and form.validate():
        try:
            service.suggest(champion, form.details(), actor=current_user)
        except service.ChampionInvalid as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Thank you. A coordinator will check your suggestion before it is public.",
                  "success")
            return redirect(url_for("champions.patch"), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("champions/suggest.html", form=form, champion=champion), status


def _team_volunteer(volunteer_id: int) -> Volunteer:
    volunteer = db.session.scalars(access.scope_team_volunteers(
        select(Volunteer), current_user).where(Volunteer.id == volunteer_id)).first()
    if volunteer is None:
        abort(404)
    return volunteer


def _team_suggestion(suggestion_id: int) -> ChampionSuggestion:
    suggestion = db.session.scalars(access.scope_suggestions(
        select(ChampionSuggestion), current_user)
        .where(ChampionSuggestion.id == suggestion_id)).first()
    if suggestion is None:
        abort(404)
    return suggestion

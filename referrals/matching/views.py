"""A connector's suggestions and connections for one referral: what suits the person,
explained suggestions and a directory search, and each connection followed to the end."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from referrals import access, audit, conflicts
from referrals.access import HUB_ROLES, Action, allow
from referrals.caseload import workspace
from referrals.caseload.forms import attach_errors, has_errors
from referrals.directory import display, vocabulary
from referrals.directory.search import DirectoryQuery, search
from referrals.errors import CaseworkInvalid, NotPermitted, StaleConnection, StaleReferral
from referrals.extensions import db
from referrals.matching import service, unmet
from referrals.matching.forms import (
    AVAILABILITY_GRID,
    UNMET_REASON_HINTS,
    ConnectionUpdateForm,
    DirectorySearchForm,
    PreferencesForm,
    RecordConnectionForm,
    SharingForm,
    UnmetNeedForm,
)
from referrals.models import Connection, ConnectionEvent, ConnectionKind, Offer, Referral, utcnow
from referrals.partners import consent

bp = Blueprint("matching", __name__, url_prefix="/caseload/referrals")

REFERRAL_ID = "<int(max=2147483647):referral_id>"
CONNECTION_ID = "<int(max=2147483647):connection_id>"
SEARCH_RESULTS = 20


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


@bp.route(f"/{REFERRAL_ID}/suggestions")
@allow(*HUB_ROLES)
def suggestions(referral_id: int):
    """The person's needs, explained suggestions, and a directory search to record from."""
    referral = _load_referral(referral_id)
    audit.record_referral("read", referral, actor=current_user, view="suggestions")
    page = _render_suggestions(referral, DirectorySearchForm(formdata=request.args))
    db.session.commit()  # after rendering: committing first would expire what was read
    return page


@bp.route(f"/{REFERRAL_ID}/connections", methods=["POST"])
@allow(*HUB_ROLES)
def record(referral_id: int):
    """Record an offer as a signpost or a referral for the person."""
    referral = _load_referral(referral_id, for_change=True)
    form = RecordConnectionForm()
    search_form = DirectorySearchForm(
        formdata=None, data={"q": form.q.data, "category": form.category.data,
                             "day": form.day.data})
    if not access.can(current_user, Action.RECORD_CONNECTION, referral):
        db.session.rollback()
        return _render_suggestions(_load_referral(referral_id), search_form, status=409,
                                   conflict=conflicts.refused(
                                       "The connection was not recorded: this referral is no "
                                       "longer on your caseload, or has closed.", form))
    offer = db.session.get(Offer, form.offer_id.data) if form.offer_id.data else None
    if form.validate_on_submit():
        today = _today()
        try:
            if offer is None:
                raise CaseworkInvalid({"offer": "Choose an offer from the list"})
            match = (service.match_for(referral, offer, today=today)
                     if form.source.data == "suggestion" else None)
            connection = service.record_connection(
                referral, offer, kind=form.kind_choice, notes=form.note.data, match=match,
                handover=form.handover(), actor=current_user, today=today)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"{offer.name} recorded as a {connection.kind.value}: "
                  f"{connection.status.label.lower()}.", "success")
            return redirect(url_for("matching.suggestions", referral_id=referral.id,
                                    **_search_args(search_form)) + "#connections")
    db.session.rollback()
    referral = _load_referral(referral_id)
    return _render_suggestions(referral, search_form, status=422,
                               failed=(form.offer_id.data, form))


@bp.route(f"/{REFERRAL_ID}/preferences", methods=["GET", "POST"])
@allow(*HUB_ROLES)
def preferences(referral_id: int):
    """What suits the person: days and times, cost, distance, access and language."""
    posted = request.method == "POST"
    referral = _load_referral(referral_id, for_change=posted)
    if not access.can(current_user, Action.SET_PREFERENCES, referral):
        return _cannot(referral)
    form = PreferencesForm(data=_preference_data(referral))
    conflict = None
    if form.is_submitted():
        if form.validate():
            km, errors = form.distance()
            try:
                if errors:
                    raise CaseworkInvalid(errors)
                service.save_preferences(
                    referral, availability=form.availability.data or [],
                    prefers_free=form.prefers_free.data, max_distance_km=km,
                    access_needs=form.access_needs.data or [], language=form.language.data,
                    actor=current_user, expected_version=form.expected_version)
            except CaseworkInvalid as exc:
                attach_errors(form, exc.errors)
            except StaleReferral as exc:
                conflict = conflicts.stale(exc, form)
            else:
                db.session.commit()
                flash(f"What suits {referral.patient.given_name} is saved. "
                      "The suggestions use it.", "success")
                return redirect(url_for("matching.suggestions", referral_id=referral.id))
        db.session.rollback()
        referral = _load_referral(referral_id)
        if conflict is not None:
            form.started_from(referral.version)
    else:
        form.started_from(referral.version)
        audit.record_referral("read", referral, actor=current_user, view="preferences")
        db.session.commit()
    status = 409 if conflict else 422 if has_errors(form) else 200
    return render_template("matching/preferences.html", referral=referral, form=form,
                           grid=AVAILABILITY_GRID, conflict=conflict), status


@bp.route(f"/{REFERRAL_ID}/connections/{CONNECTION_ID}", methods=["GET", "POST"])
@allow(*HUB_ROLES)
def connection(referral_id: int, connection_id: int):
    """One connection: the offer, its history, and moving it on."""
    posted = request.method == "POST"
    referral = _load_referral(referral_id, for_change=posted)
    found = _connection_of(referral, connection_id)
    moves = service.next_statuses(found)
    may_move = bool(moves) and access.can(current_user, Action.UPDATE_CONNECTION, referral)
    form = ConnectionUpdateForm()
    form.offer(moves)
    conflict = None
    if form.is_submitted():
        if not may_move:
            if form.expected_version in (None, found.version):
                return _cannot(referral, found)
            conflict = conflicts.refused(
                f"Someone else changed this connection: it is now "
                f"{found.status.label.lower()}, and cannot be moved on from here.", form)
        elif form.validate():
            on, date_errors = form.on()
            try:
                service.update_connection(found, status=form.status_choice, on=on,
                                          note=form.note.data, actor=current_user,
                                          today=_today(), expected_version=form.expected_version)
            except StaleConnection as exc:
                conflict = conflicts.stale(exc, form)
            except CaseworkInvalid as exc:
                attach_errors(form, date_errors)
                attach_errors(form, {("on_day" if k == "on" else k): v
                                     for k, v in exc.errors.items()})
            else:
                db.session.commit()
                flash(f"{found.offer.name}: {found.status.label.lower()}.", "success")
                return redirect(url_for("matching.suggestions", referral_id=referral.id)
                                + "#connections")
        db.session.rollback()
        referral = _load_referral(referral_id)
        found = _connection_of(referral, connection_id)
        moves = service.next_statuses(found)
        may_move = bool(moves) and access.can(current_user, Action.UPDATE_CONNECTION, referral)
        form.offer(moves)
        if conflict is not None:
            form.started_from(found.version)
    else:
        form.started_from(found.version)
        form.set_date(_today())
        audit.record_referral("read", referral, actor=current_user, view="connection",
                              connection_id=found.id)
        db.session.commit()
    return _connection_page(referral, found, form if may_move else None, conflict)


@bp.route(f"/{REFERRAL_ID}/connections/{CONNECTION_ID}/sharing", methods=["POST"])
@allow(*HUB_ROLES)
def sharing(referral_id: int, connection_id: int):
    """Issue 15: change what the person agrees the organisation of a warm handover sees."""
    referral = _load_referral(referral_id, for_change=True)
    found = _connection_of(referral, connection_id)
    form = SharingForm()
    conflict = None
    if form.validate_on_submit():
        try:
            changed = consent.set_sharing(found, form.handover(), actor=current_user,
                                          expected_version=form.expected_version)
        except StaleConnection as exc:
            conflict = conflicts.stale(exc, form)
        except CaseworkInvalid as exc:
            attach_errors(form, exc.errors)
        except NotPermitted:
            db.session.rollback()
            return _cannot(referral, found)
        else:
            db.session.commit()
            flash("What is shared with the organisation is saved." if changed
                  else "Nothing was changed.", "success")
            return redirect(url_for("matching.connection", referral_id=referral.id,
                                    connection_id=found.id))
    db.session.rollback()
    referral = _load_referral(referral_id)
    found = _connection_of(referral, connection_id)
    if conflict is not None:
        form.started_from(found.version)
    return _connection_page(referral, found, None, conflict, sharing_form=form)


def _connection_page(referral: Referral, found: Connection, form, conflict,
                     sharing_form: SharingForm | None = None):
    may_share = (found.kind is ConnectionKind.REFERRAL
                 and access.can(current_user, Action.UPDATE_CONNECTION, referral))
    if may_share and sharing_form is None:
        sharing_form = SharingForm(formdata=None, data={
            "share": found.share_with_partner, "contact": found.partner_contact,
            "handover_note": found.handover_note})
        sharing_form.started_from(found.version)
    failed = (form is not None and has_errors(form)) or (
        sharing_form is not None and has_errors(sharing_form))
    return render_template(
        "matching/connection.html", referral=referral, connection=found, form=form,
        is_final=service.is_final(found.status), display=display, conflict=conflict,
        sharing_form=sharing_form if may_share else None,
    ), (409 if conflict else 422 if failed else 200)


# --- shared ----------------------------------------------------------------------


def _load_referral(referral_id: int, *, for_change: bool = False) -> Referral:
    """A referral the user may see, with its connections; else 404."""
    return access.referral_or_404(
        referral_id,
        selectinload(Referral.patient),
        selectinload(Referral.reasons),
        selectinload(Referral.connections).options(
            selectinload(Connection.offer).selectinload(Offer.organisation),
            selectinload(Connection.events).selectinload(ConnectionEvent.actor),
        ),
        for_change=for_change,
    )


def _connection_of(referral: Referral, connection_id: int) -> Connection:
    found = next((c for c in referral.connections if c.id == connection_id), None)
    if found is None:
        abort(404)
    return found


def _search_args(form: DirectorySearchForm) -> dict[str, str]:
    args = {"q": (form.q.data or "").strip(), "category": form.category_code or "",
            "day": form.day_code or ""}
    return {k: v for k, v in args.items() if v}


def _render_suggestions(referral: Referral, search_form: DirectorySearchForm,
                        status: int = 200, failed: tuple[str | None, RecordConnectionForm]
                        | None = None, conflict: conflicts.Conflict | None = None,
                        unmet_form: UnmetNeedForm | None = None):
    today = _today()
    place = service.home_of(referral)
    by_fit = service.suggestions_by_fit(referral, today=today, home=place)
    results = None
    if search_form.asked and search_form.validate():
        results = search(DirectoryQuery(
            text=(search_form.q.data or "").strip(),
            categories=[search_form.category_code] if search_form.category_code else [],
            day=search_form.day_code, postcode=place.postcode if place else "",
            per_page=SEARCH_RESULTS))
    failed_id, failed_form = failed or (None, None)
    # Where the failed form sits on the page, for the error summary's links.
    failed_anchor = None
    if failed_id is not None:
        failed_anchor = next(
            (f"s{i}" for i, s in enumerate(by_fit.good, 1) if s.offer.id == failed_id),
            next((f"n{i}" for i, s in enumerate(by_fit.poor, 1) if s.offer.id == failed_id),
                 None))
        if failed_anchor is None and results is not None:
            failed_anchor = next(
                (f"r{i}" for i, h in enumerate(results.hits, 1) if h.offer.id == failed_id),
                None)
    open_connections = {c.offer_id: c for c in referral.connections
                        if not service.is_final(c.status)}
    return render_template(
        "matching/suggestions.html",
        referral=referral,
        place=place,
        categories=_categories_for(referral),
        preferences=service.preferences_of(referral),
        availability_text=availability_text(referral.availability or []),
        suggestions=by_fit.good,
        poor_fits=by_fit.poor,
        poor_reasons=by_fit.poor_reasons,
        search_form=search_form,
        search_args=_search_args(search_form),
        results=results,
        open_connections=open_connections,
        may_record=access.can(current_user, Action.RECORD_CONNECTION, referral),
        failed_form=failed_form,
        failed_id=failed_id,
        failed_anchor=failed_anchor,
        display=display,
        vocabulary=vocabulary,
        conflict=conflict,
        unmet_needs=unmet.needs_of(referral),
        unmet_form=unmet_form or UnmetNeedForm(formdata=None),
        may_record_unmet=access.can(current_user, Action.RECORD_UNMET_NEED, referral),
        unmet_hints=UNMET_REASON_HINTS,
        tabs=workspace.TABS, section=workspace.OFFERS,
    ), status


def _categories_for(referral: Referral) -> list[vocabulary.Category]:
    codes = vocabulary.categories_for_reasons(r.code for r in referral.reasons)
    return [c for c in vocabulary.CATEGORIES if c.code in codes]


def availability_text(slots: list[str]) -> str:
    """"Tuesday morning, afternoon; Friday evening": the grid's ticks in words."""
    days = []
    for code, name, day_slots in AVAILABILITY_GRID:
        parts = [label.lower() for slot, label in day_slots if slot in slots]
        if parts:
            days.append(f"{name} {', '.join(parts)}")
    return "; ".join(days)


def _preference_data(referral: Referral) -> dict:
    prefs = service.preferences_of(referral)
    km = prefs.max_distance_km
    return {"availability": prefs.availability, "prefers_free": prefs.prefers_free,
            "max_distance_km": f"{km:g}" if km is not None else "",
            "access_needs": prefs.access_needs, "language": prefs.language}


def _cannot(referral: Referral, connection: Connection | None = None):
    flash("That cannot be done to this referral now.", "error")
    if connection is not None:
        return redirect(url_for("matching.connection", referral_id=referral.id,
                                connection_id=connection.id))
    return redirect(url_for("caseload.workspace", referral_id=referral.id))


from referrals.matching import unmet_views  # noqa: F401  (its routes, on this blueprint)

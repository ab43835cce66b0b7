"""The practice's outcome letters: the inbox, the PDF download, and producing a letter
on demand."""
from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from referrals import access, audit
from referrals.access import HUB_ROLES, PRACTICE_ROLES, Action, allow
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.forms import whole_number
from referrals.models import Job, OutcomeLetter, Referral, Role, utcnow
from referrals.presentation import local_time
from reports import letter_actions, lifecycle, store

bp = Blueprint("letters", __name__)

REFERRAL_ID = "<int(max=2147483647):referral_id>"
MAX_VERSION = 2147483647
MAX_PAGE = 100_000


@dataclass(frozen=True)
class LetterPanel:
    """What a referral's page shows about its outcome letter."""

    latest: OutcomeLetter | None
    may_produce: bool
    # The job of a letter not made yet; its last_error when an attempt has failed.
    being_prepared: Job | None = None
    # The newest letter asks the practice to act and nobody there has marked it done.
    needs_action: bool = False
    may_mark_actions: bool = False


@bp.app_template_global()
def outcome_letter_panel(referral: Referral) -> LetterPanel:
    """For the workspace and the referral page, which the domain renders without
    knowing about letters."""
    latest = store.latest_letter(referral)
    pending = latest is not None and latest.has_actions and latest.actions_done_at is None
    return LetterPanel(latest=latest,
                       may_produce=access.can(current_user, Action.PRODUCE_LETTER, referral),
                       being_prepared=lifecycle.being_prepared(referral),
                       needs_action=pending,
                       may_mark_actions=pending and access.may_mark_letter_actions(
                           current_user, latest))


# The inbox's filters: ?show=… -> (the link's words, which letters).
FILTERS = {
    "all": "All letters",
    "unread": "Unread",
    "needs-action": "Needs action",
}


@bp.app_context_processor
def letter_badge():
    """The letters badge in a practice user's navigation: one statement of two indexed
    counts per page, and none for anyone else (reports.letter_actions.letter_counts)."""
    if not access.has_letter_inbox(current_user):
        return {}
    return {"nav_badges": {"letters.inbox": _letter_counts()}}


def _letter_counts() -> letter_actions.LetterCounts:
    # Once per request, however many templates it renders (the inbox shows them too).
    # Kept in the request's environ, not `g`: an app context (and its `g`) outlives a
    # request wherever one was already pushed, as in tests.
    key = "kindly.letter_counts"
    if key not in request.environ:
        request.environ[key] = letter_actions.letter_counts(current_user)
    return request.environ[key]


@bp.route("/letters")
@allow(*PRACTICE_ROLES)
def inbox():
    """The practice's outcome letters: unread first, then newest; or only those unread, or
    needing action (?show=)."""
    show = request.args.get("show", "all")
    if show not in FILTERS:
        show = "all"
    # Clamped so a silly ?page= cannot overflow the database's OFFSET.
    page = min(whole_number(request.args.get("page")) or 1, MAX_PAGE)
    size = int(current_app.config["PAGE_SIZE"])
    counts = _letter_counts()
    shown = access.scope_letters(select(OutcomeLetter), current_user)
    if show == "unread":
        shown = shown.where(OutcomeLetter.read_at.is_(None))
    elif show == "needs-action":
        shown = shown.where(letter_actions.needs_action())
    total = db.session.scalar(select(func.count()).select_from(shown.subquery()))
    letters = db.session.scalars(
        shown.options(selectinload(OutcomeLetter.read_by),
                      selectinload(OutcomeLetter.actions_done_by))
        .order_by(case((OutcomeLetter.read_at.is_(None), 0), else_=1),
                  OutcomeLetter.created_at.desc(), OutcomeLetter.id.desc())
        .limit(size).offset((page - 1) * size)
    ).all()
    referrals = {r.id: r for r in db.session.scalars(
        select(Referral).where(Referral.id.in_({letter.referral_id for letter in letters}))
        .options(selectinload(Referral.patient)))}
    pending = set(db.session.scalars(
        select(OutcomeLetter.id).where(OutcomeLetter.id.in_([x.id for x in letters]),
                                       letter_actions.needs_action())))
    audit.record("list", actor=current_user, entity_type="outcome-letter",
                 detail={"shown": [letter.id for letter in letters], "page": page,
                         "filter": show})
    page_html = render_template(
        "letters/inbox.html",
        rows=[(letter, referrals[letter.referral_id]) for letter in letters],
        pending=pending,
        counts=counts,
        unread=counts.unread,
        show=show,
        filters=FILTERS,
        page=page,
        has_next=page * size < total,
    )
    db.session.commit()  # after rendering: a commit expires the rows the page shows
    return page_html


@bp.route("/letters/<int(max=2147483647):letter_id>/actions-done", methods=["POST"])
@allow(*PRACTICE_ROLES)
def mark_actions_done(letter_id: int):
    """Mark a letter's GP actions as done by the signed-in person (CSRF-checked by the
    app's CSRFProtect); back to the inbox as it was."""
    letter = db.session.get(OutcomeLetter, letter_id)
    if letter is None or not access.may_mark_letter_actions(current_user, letter):
        abort(404)
    show = request.form.get("show", "all")
    if show == "referral":  # marked on the referral's own page: back there
        back = url_for("intake.show_referral", referral_id=letter.referral_id)
    else:
        back = url_for("letters.inbox", show=show if show in FILTERS and show != "all" else None)
    reference = db.session.scalar(select(Referral.reference)
                                  .where(Referral.id == letter.referral_id))
    try:
        letter_actions.mark_actions_done(letter, actor=current_user)
    except letter_actions.ActionsAlreadyDone:
        db.session.rollback()
        who = letter.actions_done_by.name if letter.actions_done_by else "Someone"
        flash(f"{who} already marked the actions for {reference} as done, on "
              f"{local_time(letter.actions_done_at)}.", "error")
        return redirect(back, code=303)
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(back, code=303)
    db.session.commit()
    flash(f"Actions for {reference} marked as done.", "success")
    return redirect(back, code=303)


@bp.route(f"/referrals/{REFERRAL_ID}/letter.pdf")
@allow(*PRACTICE_ROLES, *HUB_ROLES)
def download(referral_id: int):
    """The referral's outcome letter as a PDF: the newest version, or `?version=N`."""
    referral = access.referral_or_404(referral_id)
    number = _version_arg(request.args.get("version"))
    letter = store.letter_version(referral, number)
    if letter is None or not access.can_read_letter(current_user, letter, referral):
        abort(404)
    if letter.read_at is None and access.receipts_letter(current_user, letter):
        # One UPDATE that only an unread letter matches: of two people opening it at
        # once, the first keeps the receipt.
        db.session.execute(
            update(OutcomeLetter)
            .where(OutcomeLetter.id == letter.id, OutcomeLetter.read_at.is_(None))
            .values(read_at=utcnow(), read_by_id=current_user.id)
            .execution_options(synchronize_session=False))
    audit.record("read", actor=current_user, entity_type="outcome-letter", entity_id=letter.id,
                 patient_id=referral.patient_id,
                 detail={"referral_id": referral.id, "number": letter.number})
    pdf = letter.pdf  # deferred: loaded only here, before the commit expires it
    filename = f"{referral.reference}-outcome-letter-v{letter.number}.pdf"
    db.session.commit()
    return pdf_download(pdf, filename)


def pdf_download(pdf: bytes, filename: str):
    """A stored PDF as the browser opens it: never cached, never sniffed as anything else."""
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route(f"/caseload/referrals/{REFERRAL_ID}/letter", methods=["POST"])
@allow(Role.CONNECTOR, Role.COORDINATOR)
def produce(referral_id: int):
    """Ask for a new version of a closed referral's outcome letter: it is prepared after
    this request, and the workspace says so until it exists (CSRF-checked by the app's
    CSRFProtect)."""
    referral = access.referral_or_404(referral_id)
    workspace = url_for("caseload.workspace", referral_id=referral.id) + "#outcome-letter"
    if not access.can(current_user, Action.PRODUCE_LETTER, referral):
        flash("An outcome letter can be written once the referral is closed, by its "
              "connector or a coordinator.", "error")
        return redirect(workspace)
    asked = lifecycle.request_letter(referral, actor=current_user)
    db.session.commit()
    flash("The outcome letter is being prepared. It appears here when it is ready."
          if asked else "That outcome letter is already being prepared.", "success")
    return redirect(workspace)


def _version_arg(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_VERSION:
        abort(404)
    return int(raw)

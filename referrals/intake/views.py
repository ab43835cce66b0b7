"""Practice views: make a referral, list the practice's referrals, see one, cancel one."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from referrals import access, audit, conflicts, nhs_number, revisions, sharing
from referrals.access import CLINICAL_ROLES, REFERRING_ROLES, Action, allow
from referrals.errors import (
    DomainError,
    DuplicateOpenReferral,
    IntakeInvalid,
    InvalidNhsNumber,
    StaleReferral,
)
from referrals.extensions import db
from referrals.intake import additions, service
from referrals.intake.confirmation import next_steps
from referrals.intake.forms import AdditionForm, CancelForm, ReferralForm
from referrals.intake.listing import Page, referral_page
from referrals.models import (
    Connection,
    ConnectionEvent,
    Referral,
    ReferralEvent,
    ReferralStatus,
    utcnow,
)

bp = Blueprint("intake", __name__, url_prefix="/referrals")

# Ids are 32-bit in the database; a longer number in the address is simply not found.
REFERRAL_ID = "<int(max=2147483647):referral_id>"


@bp.route("/new", methods=["GET", "POST"])
@allow(*REFERRING_ROLES)
def new_referral():
    """The referral form: one page a GP can fill in between patients."""
    if not access.can(current_user, Action.CREATE):
        abort(403)
    form = ReferralForm()
    duplicate = addition_form = None
    if form.is_submitted():
        form.validate()  # CSRF and parsing; the service judges the rest
        intake = form.to_intake(current_user.practice)
        form.add_errors(service.check(intake, utcnow().date()))
        if not form.has_errors:
            try:
                referral = service.create_referral(intake, actor=current_user)
            except DuplicateOpenReferral as exc:
                duplicate = exc.existing
                # Another practice's referral: say it exists, but not what it is.
                form.add_errors({"nhs_number": (
                    f"This person already has an open referral ({duplicate.reference}). "
                    "Add your information to it below instead of referring again"
                    if access.can_see(current_user, duplicate) else
                    "This person already has an open referral with the connector team. "
                    "Send your information to the team below instead of referring again")})
                addition_form = AdditionForm.from_refused(form)
            except IntakeInvalid as exc:
                form.add_errors(exc.errors)
            else:
                db.session.commit()
                return redirect(url_for("intake.referral_sent", referral_id=referral.id))
        db.session.rollback()
    return render_template(
        "intake/new_referral.html",
        form=form,
        duplicate=duplicate,
        duplicate_visible=duplicate is not None and access.can_see(current_user, duplicate),
        addition_form=addition_form,
    ), (422 if form.has_errors else 200)


@bp.route(f"/{REFERRAL_ID}/sent")
@allow(*CLINICAL_ROLES)
def referral_sent(referral_id: int):
    """The confirmation after a referral: its reference and what happens next."""
    referral = access.referral_or_404(referral_id, selectinload(Referral.patient))
    audit.record_referral("read", referral, actor=current_user, page="confirmation")
    page = render_template("intake/referral_sent.html", referral=referral,
                           steps=next_steps(referral))
    db.session.commit()
    return page


@bp.route("/add-information", methods=["POST"])
@allow(*REFERRING_ROLES)
def add_information():
    """Send what the GP typed to the person's open referral instead of referring again."""
    form = AdditionForm(prefix="addition")
    if form.validate():
        try:
            addition = additions.add_information(form.to_request(), actor=current_user)
        except IntakeInvalid as exc:
            form.add_errors(exc.errors)
        except DomainError as exc:
            form.form_errors.append(str(exc))
        else:
            referral = addition.referral
            db.session.commit()
            if access.can_see(current_user, referral):
                flash(f"Your information was added to referral {referral.reference}.", "success")
                return redirect(url_for("intake.show_referral", referral_id=referral.id))
            # Another practice's referral: the team has it; nothing more is said.
            flash("Your information was sent to the connector team working with this person.",
                  "success")
            return redirect(url_for("intake.list_referrals"))
    db.session.rollback()
    return render_template("intake/add_information.html", addition_form=form), 422


@bp.route("")
@allow(*CLINICAL_ROLES)
def list_referrals():
    """The referrals this user may see, newest first, filterable by status."""
    status = _status_arg(request.args.get("status"))
    search = request.args.get("nhs_number", "").strip()
    search_error = None
    number = None
    if search:
        try:
            number = nhs_number.normalise(search)
        except InvalidNhsNumber as exc:
            search_error = str(exc)
    if search_error:
        page = Page(rows=[], next_cursor=None, prev_cursor=None)
    else:
        page = referral_page(
            current_user,
            status=status,
            nhs_number=number,
            after=request.args.get("after"),
            before=request.args.get("before"),
            size=int(current_app.config["PAGE_SIZE"]),
        )
    audit.record(
        "list",
        actor=current_user,
        entity_type="referral",
        detail={"status": status.value if status else None, "nhs_number_search": bool(search),
                "shown": [r.id for r in page.rows]},
    )
    db.session.commit()
    return render_template(
        "intake/list_referrals.html",
        page=page,
        status=status,
        statuses=list(ReferralStatus),
        search=search,
        search_error=search_error,
        can_refer=access.can(current_user, Action.CREATE),
    )


@bp.route(f"/{REFERRAL_ID}")
@allow(*CLINICAL_ROLES)
def show_referral(referral_id: int):
    """One referral: the person, the referral and its timeline."""
    referral = _load_referral(referral_id)
    audit.record_referral("read", referral, actor=current_user)
    cancel_form = None
    if access.can(current_user, Action.CANCEL, referral):
        cancel_form = CancelForm()
        cancel_form.started_from(referral.version)
    page = render_template("intake/show_referral.html", referral=referral,
                           share=sharing.for_user(referral, current_user),
                           cancel_form=cancel_form)
    db.session.commit()  # after rendering: committing first would expire what it shows
    return page


@bp.route(f"/{REFERRAL_ID}/cancel", methods=["POST"])
@allow(*REFERRING_ROLES)
def cancel_referral(referral_id: int):
    """Withdraw a referral that the hub has not yet accepted."""
    referral = _load_referral(referral_id, for_change=True)
    form = CancelForm()
    conflict = None
    if not access.can(current_user, Action.CANCEL, referral):
        changes = (revisions.changes_since(referral, form.expected_version)
                   if form.expected_version is not None else [])
        conflict = conflicts.refused(
            f"This referral is {referral.status.label.lower()} and can no longer be cancelled "
            "from the practice. Contact the connector team.", form, changes)
        form = None
    elif form.validate_on_submit():
        try:
            service.cancel_referral(referral, actor=current_user, reason=form.reason.data,
                                    expected_version=form.expected_version)
        except StaleReferral as exc:
            conflict = conflicts.stale(exc, form)
        except DomainError as exc:
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            db.session.commit()
            flash(f"Referral {referral.reference} cancelled.", "success")
            return redirect(url_for("intake.show_referral", referral_id=referral.id))
    db.session.rollback()
    referral = _load_referral(referral_id)
    if form is not None and conflict is not None:
        form.started_from(referral.version)
    return render_template(
        "intake/show_referral.html", referral=referral,
        share=sharing.for_user(referral, current_user), cancel_form=form, conflict=conflict
    ), 409 if conflict else 422


def _load_referral(referral_id: int, *, for_change: bool = False) -> Referral:
    """A referral the user may see, with its person, reasons and timeline; else 404."""
    return access.referral_or_404(
        referral_id,
        selectinload(Referral.patient),
        selectinload(Referral.reasons),
        selectinload(Referral.measurements),  # the change from baseline
        selectinload(Referral.events).selectinload(ReferralEvent.actor),
        selectinload(Referral.additions),
        # The timeline's connection steps.
        selectinload(Referral.connections).options(
            selectinload(Connection.offer),
            selectinload(Connection.events).selectinload(ConnectionEvent.actor)),
        for_change=for_change,
    )


def _status_arg(value: str | None) -> ReferralStatus | None:
    try:
        return ReferralStatus(value) if value else None
    except ValueError:
        return None


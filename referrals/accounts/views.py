"""Account pages: the accounts a user manages (admin: all; practice manager: their
practice's; coordinator: their team's connectors), invitations, forgotten passwords,
setting a password from a link, and the development outbox."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from referrals import access
from referrals.access import allow, public
from referrals.accounts import outbox, service
from referrals.accounts.forms import (
    ButtonForm,
    ForgotPasswordForm,
    InviteForm,
    PlacementForm,
    SetPasswordForm,
)
from referrals.auth import passwords
from referrals.auth import service as auth
from referrals.directory import listing
from referrals.extensions import db
from referrals.models import OutboxMessage, Practice, Role, Team, User

bp = Blueprint("accounts", __name__)

MANAGERS = sorted(access.ACCOUNT_MANAGERS)
USER_ID = "<int(max=2147483647):user_id>"
MESSAGE_ID = "<int(max=2147483647):message_id>"
STATUSES = {"active": True, "deactivated": False}
LIST_LIMIT = 500


@bp.route("/users")
@allow(*MANAGERS)
def list_users():
    """The accounts this user manages, found by name or email, active or deactivated."""
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status", "")
    query = access.scope_users(select(User), current_user).options(
        selectinload(User.practice), selectinload(User.team), selectinload(User.organisation))
    if q:
        query = query.where(or_(func.lower(User.name).contains(q.lower(), autoescape=True),
                                func.lower(User.email).contains(q.lower(), autoescape=True)))
    if status in STATUSES:
        query = query.where(User.active.is_(STATUSES[status]))
    users = db.session.scalars(query.order_by(User.name, User.id).limit(LIST_LIMIT)).all()
    return render_template(
        "accounts/list.html", users=users, q=q, status=status,
        awaiting={u.id for u in users if auth.awaiting_password(u)})


@bp.route("/users/invite", methods=["GET", "POST"])
@allow(*MANAGERS)
def invite():
    """Make an account and email its holder a link to choose their password."""
    form = _placement_form(InviteForm)
    if form.validate_on_submit():
        try:
            user = service.invite_user(
                email=form.email.data, name=form.name.data, role=form.chosen_role(),
                practice=form.chosen_practice(), team=form.chosen_team(),
                organisation=form.chosen_organisation(),
                actor=current_user, base_url=_base_url())
        except service.AccountInvalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            db.session.commit()
            flash(f"Invitation sent to {user.email}. The link in it works once, for "
                  f"{current_app.config['INVITE_LINK_VALID_DAYS']} days.", "success")
            return redirect(url_for("accounts.show_user", user_id=user.id), 303)
    db.session.rollback()
    return render_template("accounts/invite.html", form=form), 422 if form.errors else 200


@bp.route(f"/users/{USER_ID}")
@allow(*MANAGERS)
def show_user(user_id: int):
    """One account: its role and place, and what can be done to it."""
    account = _load_user(user_id)
    return _user_page(account, _placement_form(PlacementForm, account))


@bp.route(f"/users/{USER_ID}/role", methods=["POST"])
@allow(*MANAGERS)
def change_role(user_id: int):
    """Give the account a new role, practice or team."""
    account = _load_user(user_id)
    form = _placement_form(PlacementForm, account)
    if form.validate_on_submit():
        try:
            changed = service.change_placement(
                account, role=form.chosen_role(), practice=form.chosen_practice(),
                team=form.chosen_team(), organisation=form.chosen_organisation(),
                actor=current_user)
        except service.AccountInvalid as exc:
            form.add_error(exc.field or "role", str(exc))
        else:
            db.session.commit()
            flash(f"{account.name} is now {account.role.label.lower()}"
                  f"{_place(account)}." if changed else "Nothing was changed.", "success")
            return redirect(url_for("accounts.show_user", user_id=account.id), 303)
    db.session.rollback()
    return _user_page(db.session.get(User, user_id), form), 422


@bp.route(f"/users/{USER_ID}/deactivate", methods=["POST"])
@allow(*MANAGERS)
def deactivate(user_id: int):
    """Stop the account signing in, and sign it out everywhere at once."""
    return _act(user_id, "deactivate")


@bp.route(f"/users/{USER_ID}/reactivate", methods=["POST"])
@allow(*MANAGERS)
def reactivate(user_id: int):
    """Let the account sign in again with its password."""
    return _act(user_id, "reactivate")


@bp.route(f"/users/{USER_ID}/reset-password", methods=["POST"])
@allow(*MANAGERS)
def reset_password(user_id: int):
    """Stop the password working, sign them out, and email a link to choose a new one."""
    return _act(user_id, "reset")


def _act(user_id: int, action: str):
    account = _load_user(user_id)
    if not ButtonForm().validate_on_submit():
        flash("This page had expired. Press the button again.", "error")
        return redirect(url_for("accounts.show_user", user_id=account.id), 303)
    try:
        if action == "reset":
            service.force_password_reset(account, actor=current_user, base_url=_base_url())
            message = (f"{account.name}'s password no longer works and they are signed out. "
                       f"A link to choose a new one was sent to {account.email}.")
        elif action == "deactivate":
            changed = service.deactivate(account, actor=current_user)
            message = (f"Deactivated {account.name}. They are signed out everywhere and "
                       "cannot sign in." if changed else f"{account.name} was already deactivated.")
        else:
            changed = service.reactivate(account, actor=current_user)
            message = (f"Reactivated {account.name}. They can sign in again with their "
                       "password." if changed else f"{account.name} was already active.")
    except service.AccountInvalid as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("accounts.show_user", user_id=account.id), 303)


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/forgot_password.html", form=form), \
            422 if form.errors else 200
    service.request_password_reset(form.email.data, ip=request.remote_addr or "",
                                   base_url=_base_url())
    db.session.commit()
    return redirect(url_for("accounts.reset_sent"), 303)


@bp.route("/forgot-password/sent")
@public
def reset_sent():
    """The one answer to every "forgot password" request."""
    return render_template("accounts/reset_sent.html",
                           minutes=current_app.config["RESET_LINK_VALID_MINUTES"])


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    """Choose a password from an emailed link (an invitation or a reset); once only."""
    try:
        holder = service.link_holder(token)
    except service.LinkInvalid as exc:
        return render_template("accounts/link_invalid.html", message=str(exc)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            service.set_password_from_link(token, form.new_password.data)
        except service.LinkInvalid as exc:
            db.session.rollback()
            return render_template("accounts/link_invalid.html", message=str(exc)), 410
        except service.AccountInvalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            db.session.commit()
            flash("Your password is set. Sign in with your email address and new password.",
                  "success")
            return redirect(url_for("auth.login"), 303)
    db.session.rollback()
    response = render_template("accounts/set_password.html", form=form, holder=holder,
                               min_length=passwords.MIN_LENGTH)
    return response, 422 if form.errors else 200


@bp.route("/admin/outbox")
@allow(Role.ADMIN)
def outbox_list():
    """Account emails as written: the development outbox when there is no SMTP."""
    return render_template("accounts/outbox.html", messages=outbox.recent(),
                           development=outbox.development_outbox())


@bp.route(f"/admin/outbox/{MESSAGE_ID}")
@allow(Role.ADMIN)
def outbox_message(message_id: int):
    """One account email, with its link."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template("accounts/outbox_message.html", message=message)


def _user_page(account: User, form: PlacementForm):
    own = account.id == current_user.id
    return render_template(
        "accounts/user.html", account=account, form=form, own=own, buttons=ButtonForm(),
        awaiting=auth.awaiting_password(account))


def _placement_form(form_class, account: User | None = None):
    """The form offering only the roles, practices and teams the signed-in user may give."""
    actor = current_user._get_current_object()
    roles = access.manageable_roles(actor)
    practices = [p for p in db.session.scalars(select(Practice).order_by(Practice.name))
                 if any(access.may_place(actor, r, p, None) for r in roles
                        if r.belongs_to_practice)]
    teams = [t for t in db.session.scalars(select(Team).order_by(Team.name))
             if any(access.may_place(actor, r, None, t) for r in roles if r.belongs_to_team)]
    # Issue 15: partners work for a directory organisation (any, for who may give them).
    organisations = (listing.organisation_choices(account.organisation_id if account else None)
                     if any(access.may_place_in_organisation(actor, r) for r in roles) else [])
    data = {}
    if account is not None and request.method == "GET":
        data = {"role": account.role.value, "practice": str(account.practice_id or ""),
                "team": str(account.team_id or ""),
                "organisation": account.organisation_id or ""}
    return form_class(roles, practices, teams, data=data, organisations=organisations)


def _load_user(user_id: int) -> User:
    """The account if the signed-in user manages it; 404 otherwise, as if it did not exist."""
    account = db.session.get(User, user_id)
    if account is None or not access.may_manage(current_user, account):
        abort(404)
    return account


def _place(account: User) -> str:
    place = account.practice or account.team or account.organisation
    return f" at {place.name}" if place is not None else ""


def _base_url() -> str:
    return current_app.config.get("PUBLIC_URL") or request.url_root

"""Sign-in, sign-out, changing your password, and the home page that sends each role to
its work."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from referrals.access import public, signed_in
from referrals.auth import passwords, service, sessions, throttle
from referrals.auth.forms import ChangePasswordForm, LoginForm
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import Role

bp = Blueprint("auth", __name__)

HOME_ENDPOINTS = {
    Role.REFERRER: "intake.list_referrals",
    Role.MANAGER: "intake.list_referrals",
    Role.CONNECTOR: "caseload.my_caseload",
    Role.COORDINATOR: "hub.workload",
    Role.ADMIN: "admin.users",
    Role.PARTNER: "partners.handovers",
    Role.VOLUNTEER: "volunteers.my_page",
}


@bp.route("/")
@public
def home():
    """Send a signed-in user to their work, anyone else to sign in."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME_ENDPOINTS[current_user.role]))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = service.authenticate(
                form.email.data, form.password.data, ip=request.remote_addr or ""
            )
        except DomainError as exc:
            error = str(exc)
        else:
            sessions.sign_in(user, remember_me=form.remember.data)
        db.session.commit()  # the attempt is recorded either way
        if error is None:
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
    # A POST that did not sign in is an error answer (post/redirect/get): 401 for the
    # credentials, 422 for a form that did not validate (a missing field, an old page).
    status = 401 if error else 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    """Sign out everywhere: every session and remember-me cookie of this user ends."""
    service.sign_out(current_user._get_current_object())
    db.session.commit()
    sessions.sign_out()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Change your own password; your other sessions end, this one carries on."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _change_password_page(form), 422 if form.errors else 200
    user = current_user._get_current_object()
    remember_until = sessions.remembered_until(user)
    try:
        service.change_password(user, current_password=form.current_password.data,
                                new_password=form.new_password.data,
                                ip=request.remote_addr or "")
    except throttle.SignInLocked as exc:
        form.add_error("current_password", str(exc))
    except service.AccountInvalid as exc:
        form.add_error(exc.field, str(exc))
    else:
        sessions.stay_signed_in(user, remember_until=remember_until)
        db.session.commit()
        flash("Your password has been changed. You have been signed out on every other "
              "device.", "success")
        return redirect(url_for("auth.home"))
    db.session.commit()  # a wrong current password is recorded as a failed attempt
    return _change_password_page(form), 422


def _change_password_page(form: ChangePasswordForm) -> str:
    return render_template("auth/change_password.html", form=form,
                           min_length=passwords.MIN_LENGTH)


def _safe_next(target: str | None) -> str | None:
    """Only follow a `next` that stays on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target

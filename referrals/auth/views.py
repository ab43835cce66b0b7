"""Sign-in, sign-out and the home page that sends each role to its work."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from referrals.access import public, signed_in
from referrals.auth import service
from referrals.auth.forms import LoginForm
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
            login_user(user, remember=form.remember.data)
        db.session.commit()  # the attempt is recorded either way
        if error is None:
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
    return render_template("auth/login.html", form=form, error=error), 200 if not error else 401


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    """Only follow a `next` that stays on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target

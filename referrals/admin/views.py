"""Administrator pages. Admins manage accounts and API clients; they see no clinical content."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals import health
from referrals.access import allow
from referrals.admin import service
from referrals.admin.forms import ApiClientForm, RevokeApiClientForm
from referrals.auth import service as accounts
from referrals.extensions import db
from referrals.models import ApiClient, Practice, Role, Team, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

CLIENT_ID = "<int(max=2147483647):client_id>"
USER_ID = "<int(max=2147483647):user_id>"


@bp.route("/users")
@allow(Role.ADMIN)
def users():
    """Every staff account, with its role and where it belongs."""
    accounts = db.session.scalars(
        select(User)
        .options(selectinload(User.practice), selectinload(User.team))
        .order_by(User.role, User.name)
    ).all()
    practices = db.session.scalars(
        select(Practice).options(selectinload(Practice.team)).order_by(Practice.name)
    ).all()
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    return render_template("admin/users.html", users=accounts, practices=practices, teams=teams,
                           service_problems=health.problems())


@bp.route(f"/users/{USER_ID}/deactivate", methods=["POST"])
@allow(Role.ADMIN)
def deactivate_user(user_id: int):
    """Stop an account signing in, and sign it out everywhere at once."""
    account = _load_user(user_id)
    try:
        changed = accounts.deactivate_user(account, actor=current_user)
    except accounts.AccountInvalid as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.users"))
    db.session.commit()
    flash(f"Deactivated {account.name}. They are signed out everywhere and cannot sign in."
          if changed else f"{account.name} was already deactivated.", "success")
    return redirect(url_for("admin.users"))


@bp.route(f"/users/{USER_ID}/reactivate", methods=["POST"])
@allow(Role.ADMIN)
def reactivate_user(user_id: int):
    """Let an account sign in again (with its password; old sessions stay ended)."""
    account = _load_user(user_id)
    changed = accounts.reactivate_user(account, actor=current_user)
    db.session.commit()
    flash(f"Reactivated {account.name}. They can sign in again with their password."
          if changed else f"{account.name} was already active.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/api-clients")
@allow(Role.ADMIN)
def api_clients():
    """The FHIR API clients, and a form to add one."""
    return _api_clients_page(ApiClientForm(_practices()))


@bp.route("/api-clients", methods=["POST"])
@allow(Role.ADMIN)
def create_api_client():
    """Create an API client and show its token, in this response only: it is stored hashed."""
    form = ApiClientForm(_practices())
    if form.validate_on_submit():
        try:
            client, token = service.create_api_client(
                form.name.data, form.chosen_practices(), actor=current_user)
        except service.ApiClientInvalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            db.session.commit()
            response = make_response(render_template(
                "admin/api_client_created.html", client=client, token=token))
            # The one copy of the token: keep it out of every cache.
            response.headers["Cache-Control"] = "no-store"
            return response
    db.session.rollback()
    return _api_clients_page(form), 422


@bp.route(f"/api-clients/{CLIENT_ID}/revoke")
@allow(Role.ADMIN)
def confirm_revoke_api_client(client_id: int):
    """Ask before revoking: systems using the token stop working at once."""
    client = _load_client(client_id)
    return render_template("admin/revoke_api_client.html", client=client,
                           form=RevokeApiClientForm())


@bp.route(f"/api-clients/{CLIENT_ID}/revoke", methods=["POST"])
@allow(Role.ADMIN)
def revoke_api_client(client_id: int):
    """Revoke a client's token; the FHIR API refuses it (401) from now on."""
    client = _load_client(client_id)
    form = RevokeApiClientForm()
    if not form.validate_on_submit():
        return render_template("admin/revoke_api_client.html", client=client, form=form), 422
    already = not client.active
    service.revoke_api_client(client, actor=current_user)
    db.session.commit()
    flash(f"{client.name} was already revoked." if already else
          f"Revoked {client.name}. The FHIR API refuses its token from now on.", "success")
    return redirect(url_for("admin.api_clients"))


def _api_clients_page(form: ApiClientForm):
    clients = db.session.scalars(
        select(ApiClient).options(selectinload(ApiClient.practices)).order_by(ApiClient.name)
    ).all()
    return render_template("admin/api_clients.html", clients=clients, form=form)


def _practices() -> list[Practice]:
    return list(db.session.scalars(select(Practice).order_by(Practice.name)))


def _load_client(client_id: int) -> ApiClient:
    client = db.session.get(ApiClient, client_id)
    if client is None:
        abort(404)
    return client


def _load_user(user_id: int) -> User:
    account = db.session.get(User, user_id)
    if account is None:
        abort(404)
    return account

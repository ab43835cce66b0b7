"""Administrator pages. Admins manage accounts; they see no clinical content."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals.access import allow
from referrals.extensions import db
from referrals.models import Practice, Role, Team, User

bp = Blueprint("admin", __name__, url_prefix="/admin")


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
    return render_template("admin/users.html", users=accounts, practices=practices, teams=teams)

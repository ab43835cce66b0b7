"""Health check for load balancers and monitoring."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from referrals import database
from referrals.access import public
from referrals.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz():
    """200 when the database answers a query, 503 when it does not."""
    try:
        with database.read_only(db.session):  # a probe must not queue behind writers
            db.session.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")

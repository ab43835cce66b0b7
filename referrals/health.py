"""Health check for load balancers and monitoring.

Besides the database, create_app() registers checks of what the domain cannot import
itself (PDF output lives in `reports`): each answers None when all is well, or the
reason it is not. A failing check makes the service "degraded" but still answers 200:
the people using Kindly can go on working (a letter waits, outstanding, until PDFs can
be made), and every instance of the same build lacks the same library, so a load
balancer that took them out of rotation on it would turn missing letters into an outage.
Monitoring alerts on "degraded"; the administrator's pages say what is wrong.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from referrals import database
from referrals.access import public
from referrals.extensions import db

bp = Blueprint("health", __name__)

CHECKS = "kindly.health_checks"


@dataclass(frozen=True)
class Check:
    name: str  # its key in /healthz, e.g. "pdf"
    label: str  # for people, e.g. "PDF output"
    run: Callable[[], str | None]  # None when all is well, else the reason


@dataclass(frozen=True)
class Problem:
    name: str
    label: str
    reason: str


def register_check(app: Flask, name: str, label: str, run: Callable[[], str | None]) -> None:
    app.extensions.setdefault(CHECKS, []).append(Check(name, label, run))


def checks() -> list[Check]:
    return current_app.extensions.get(CHECKS, [])


def problems() -> list[Problem]:
    """What the registered checks find wrong (empty when all is well)."""
    found = []
    for check in checks():
        if (reason := check.run()) is not None:
            found.append(Problem(check.name, check.label, reason))
    return found


def database_answers() -> bool:
    """Whether the database answers a trivial query (without queueing behind writers)."""
    try:
        with database.read_only(db.session):
            db.session.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True


@bp.route("/healthz")
@public
def healthz():
    """200 when the database answers ("degraded" if a check fails), 503 when it does not.
    The same checks, in words for people, are at /status (referrals/about)."""
    if not database_answers():
        return jsonify(status="error", database="unavailable"), 503
    body = {"status": "ok", "database": "ok"}
    body.update({check.name: "ok" for check in checks()})
    for problem in problems():
        body.update({"status": "degraded", problem.name: "unavailable",
                     f"{problem.name}_reason": problem.reason})
    return jsonify(body)


@dataclass(frozen=True)
class Part:
    """One thing /healthz checks, as the service status page shows it to people."""
    name: str  # "database", or a registered check's name
    label: str
    working: bool


def service_status() -> list[Part]:
    """Every check /healthz makes, whether it passes; no reasons (those are for admins)."""
    parts = [Part("database", "Database", database_answers())]
    found = {problem.name for problem in problems()}
    parts.extend(Part(check.name, check.label, check.name not in found) for check in checks())
    return parts

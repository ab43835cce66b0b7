"""The public site's fixed pages: the privacy notice, the accessibility statement and the
service status page, each linked from the footer of every page."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from referrals import health
from referrals.access import public

bp = Blueprint("about", __name__)


@bp.route("/privacy")
@public
def privacy():
    """What Kindly holds about a person, why, who sees it, how long, and their rights."""
    return render_template("about/privacy.html")


@bp.route("/accessibility")
@public
def accessibility():
    """The accessibility statement: the standard, known problems, and how to report one."""
    return render_template("about/accessibility.html")


@bp.route("/status")
@public
def status():
    """Whether each part of Kindly is working, in plain words (/healthz is for machines).

    Public, so someone who cannot sign in can see whether it is them or the service; it
    says what is not working and what that means, never why (the administrator's pages do).
    """
    parts = health.service_status()
    database_down = not next(part.working for part in parts if part.name == "database")
    body = render_template("about/status.html", parts=parts,
                           all_working=all(part.working for part in parts),
                           email_on=bool(current_app.config["SMTP_HOST"]))
    return body, 503 if database_down else 200

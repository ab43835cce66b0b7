"""Error pages for the web: a clear message, never a stack trace."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from referrals import revisions
from referrals.extensions import db

MESSAGES = {
    400: ("Something was wrong with that request", "Go back, check what you entered and try again."),
    403: ("You do not have access to this page", "If you think you should, ask your administrator."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("That action is not available here", "Go back and try again."),
    413: ("What you sent is too large",
          "Go back, shorten what you entered and try again. Nothing was saved."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you saved has been lost."),
}


def register(app: Flask, api_prefixes: dict | None = None) -> None:
    """Web error pages; paths under an API prefix get that API's own error body."""
    api_prefixes = api_prefixes or {}

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_template(
            "errors/error.html",
            title="Your form could not be sent",
            message="The page had expired or was missing its security token. "
            "Go back, refresh the page and send it again.",
        ), 400

    for code, (title, message) in MESSAGES.items():
        app.register_error_handler(code, _handler(code, title, message, api_prefixes))

    def lost_race(exc):
        """A change that lost to another at the database itself (revisions, layer 3): a
        clear answer instead of a 500. The browser keeps the form: Back brings it back."""
        db.session.rollback()
        if not revisions.is_lost_race(exc):
            return _handler(500, *MESSAGES[500], api_prefixes)(exc)
        return render_template(
            "errors/error.html", title="Someone else changed this referral",
            message="Someone else changed it at the same moment, so nothing was saved. "
            "Go back: your browser still has what you typed. Reload the referral to see "
            "what changed, then send it again."), 409

    app.register_error_handler(StaleDataError, lost_race)
    app.register_error_handler(IntegrityError, lost_race)


def _handler(code: int, title: str, message: str, api_prefixes: dict):
    def handle(exc):
        if code == 500:
            db.session.rollback()
        for prefix, api_handler in api_prefixes.items():
            if request.path == prefix or request.path.startswith(prefix + "/"):
                if not isinstance(exc, HTTPException):
                    exc = InternalServerError()
                return api_handler(exc)
        return render_template("errors/error.html", title=title, message=message), code

    return handle

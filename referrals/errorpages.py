"""Error pages for the web: a clear message, never a stack trace."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

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

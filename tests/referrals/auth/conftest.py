"""`web`: browsers whose every request runs in a fresh app context, on a committed database.

The shared `db` fixture keeps one app context open for the whole test, so Flask-Login's
cached user (`g._login_user`) outlives each request: a browser with no cookies at all
was seen getting a page meant for a signed-in user. Tests about which cookies still
work must not inherit that, so these fixtures push no outer context: each request makes
its own, the user is loaded from the cookies it carries, and the data they see was
really committed (a temp SQLite file, or a fresh PostgreSQL database, per package run).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import has_app_context

from referrals.extensions import db
from referrals.models import Base, Role
from tests.builders import Builders
from tests.conftest import fresh_database, migrated_app

PASSWORD = "correct horse battery"
REMEMBER = "remember_token"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def committed_app(request, tmp_path_factory):
    """An app on its own database, migrated once; nothing here rolls back."""
    with fresh_database(request, tmp_path_factory.mktemp("auth"), "sessions") as url, \
            migrated_app(url) as app:
        yield app


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str = PASSWORD


class Browser:
    """One browser: a test client with its own cookies, never inside an app context."""

    def __init__(self, app, ip: str, *, use_cookies: bool = True):
        self._client = app.test_client(use_cookies=use_cookies)
        self._environ = {"REMOTE_ADDR": ip}

    def get(self, url: str, **kwargs):
        return self._request("get", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self._request("post", url, **kwargs)

    def submit(self, url: str, data: dict, *, page: str | None = None, **kwargs):
        """GET `page` (default: `url`) for its CSRF token, then POST `data` to `url`."""
        html = self.get(page or url).get_data(as_text=True)
        match = _CSRF.search(html)
        assert match, f"no CSRF token on {page or url}"
        return self.post(url, data={**data, "csrf_token": match.group(1) or match.group(2)},
                         **kwargs)

    def sign_in(self, account: Account, *, password: str | None = None, remember=False):
        data = {"email": account.email, "password": password or account.password}
        if remember:
            data["remember"] = "y"
        return self.submit("/login", data)

    def sign_out(self):
        return self.submit("/logout", {}, page="/notifications")

    def signed_in(self) -> bool:
        """Can this browser open a page that needs any signed-in user?"""
        status = self.get("/notifications").status_code
        assert status in (200, 302), status
        return status == 200

    def cookie(self, name: str):
        return self._client.get_cookie(name)

    def cookie_value(self, name: str) -> str | None:
        cookie = self._client.get_cookie(name)
        return cookie.value if cookie is not None else None

    def set_cookie(self, name: str, value: str) -> None:
        self._client.set_cookie(name, value)

    def _request(self, method: str, url: str, **kwargs):
        # The whole point of these tests: nothing may carry over from an outer context.
        assert not has_app_context(), "a request inside an outer app context shares g"
        return getattr(self._client, method)(url, environ_base=self._environ, **kwargs)


class Web:
    # Flask-Login's strong session protection drops a session cookie that comes back
    # from another address, so a copied cookie is tried from the same one by default:
    # someone on the same network, or a later user of the same computer.
    ADDRESS = "192.0.2.10"

    def __init__(self, app):
        self.app = app

    def browser(self, ip: str = ADDRESS, *, use_cookies: bool = True) -> Browser:
        """A new browser with no cookies (with use_cookies=False, a client that sends
        only the Cookie headers a test gives it, byte for byte)."""
        return Browser(self.app, ip, use_cookies=use_cookies)

    def browser_with(self, **cookies: str) -> Browser:
        """A new browser holding only these cookies, as if copied from another."""
        browser = self.browser()
        for name, value in cookies.items():
            browser.set_cookie(name, value)
        return browser

    def user(self, role: Role = Role.REFERRER, **kwargs) -> Account:
        with self.session() as session:
            user = Builders(session).user(role, password=PASSWORD, **kwargs)
            session.flush()
            return Account(user.id, user.email)

    @contextmanager
    def session(self):
        """The database in an app context of its own, committed at the end."""
        assert not has_app_context()
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()

    def wipe(self) -> None:
        with self.app.app_context():
            for table in reversed(Base.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
            db.session.remove()


@pytest.fixture
def web(committed_app):
    web = Web(committed_app)
    yield web
    web.wipe()

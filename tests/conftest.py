"""Shared fixtures: the app on SQLite (always) and PostgreSQL (when it can be started),
a `db` that rolls every test back, a CSRF-aware `client`, `login_as` and `make` builders.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from referrals import create_app
from referrals.extensions import db as _db
from tests.builders import Builders


# --- databases -----------------------------------------------------------------


def _pg_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for candidate in sorted(glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root, so run the server as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster in a temp dir, or TEST_DATABASE_URL if set."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("KINDLY_REQUIRE_POSTGRES"):
            pytest.fail("KINDLY_REQUIRE_POSTGRES is set but initdb/pg_ctl are not installed")
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed")
    root = Path(tempfile.mkdtemp(prefix="kindly-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "server.log"
    port = "54329"
    run = lambda *args: subprocess.run(  # noqa: E731
        _as_postgres([str(bindir / args[0]), *args[1:]]), check=True, capture_output=True
    )
    run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--locale=C", "--no-sync")
    # Unix socket only, in the temp dir; durability off because the data is thrown away.
    options = (f"-k {root} -p {port} -c listen_addresses='' -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    try:
        admin = create_engine(
            f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE kindly_test")
        admin.dispose()
        yield f"postgresql+psycopg://postgres@/kindly_test?host={root}&port={port}"
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                     "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(request, folder: Path, name: str) -> Iterator[str]:
    """The URL of a database that nothing rolls back, for tests that need committed data
    other engines, threads or processes can see: a SQLite file in `folder`, or a new
    database in the test PostgreSQL cluster (`request.param` says which), dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    database = f"kindly_{name}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    try:
        yield make_url(base).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def migrated_app(url: str, **config) -> Iterator:
    """An app of its own on `url`, its schema built by the migrations; its engine closed
    after."""
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url, **config})
    with app.app_context():
        flask_migrate.upgrade()
        _db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'kindly-test.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def app(database_url):
    """The app, with its schema built by the migrations (the only way it is built)."""
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    guard_post_redirect_get(app)  # issue 14: see the block at the end of this file
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """Each test runs inside a transaction that is rolled back afterwards.

    A plain sessionmaker bound to one connection (Flask-SQLAlchemy's own factory
    would ignore the bind); the code under test commits to savepoints.
    """
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        original, _db.session = _db.session, session
        try:
            yield _db
        finally:
            session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def make(db):
    return Builders(db.session)


# --- web -------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Client:
    """The Flask test client, plus `submit()` which posts a form with its CSRF token."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def csrf_token(self, page: str) -> str:
        html = self._client.get(page).get_data(as_text=True)
        match = _CSRF.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1) or match.group(2)

    def submit(self, url: str, data: dict, *, page: str | None = None, **kwargs):
        """GET `page` (default: `url`) for a token, then POST `data` to `url`."""
        data = {**data, "csrf_token": self.csrf_token(page or url)}
        return self._client.post(url, data=data, **kwargs)


@pytest.fixture
def client(app, db):
    return Client(app.test_client())


@pytest.fixture
def login_as(client, make):
    """Sign in through the real login form as a new user with `role`."""

    def login(role, **kwargs):
        password = "correct horse battery"
        user = make.user(role, password=password, **kwargs)
        _db.session.commit()
        response = client.submit("/login", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


# --- issue 14 (intake): post/redirect/get on every form ------------------------------
# Every test that posts a form to the `app` fixture also checks the answer's shape: a
# successful POST redirects (so refreshing the page never sends it again), and only a
# POST with errors shows a page, with an error status (400, 409, 422, 429…). A POST
# answered "200 OK" with a page is either a form shown again after success or errors
# shown as a success: both fail the test that sent it. tests/referrals/
# test_post_redirect_get.py checks this list against app.url_map.

# POST endpoints allowed to answer with a 2xx page, and why.
PRG_EXCEPTIONS = {
    # The new token is shown in this response only (it is stored hashed, and a redirect
    # would have to carry the secret through the session cookie); no-store.
    "admin.create_api_client": "shows a one-time secret",
}


class PostWithoutRedirect(AssertionError):
    """A POST answered with a 2xx page instead of a redirect (or an error status)."""


def guard_post_redirect_get(app) -> None:
    @app.after_request
    def refuse_a_page_after_post(response):
        from flask import request

        if (request.method == "POST" and 200 <= response.status_code < 300
                and response.mimetype == "text/html"
                and request.endpoint not in PRG_EXCEPTIONS):
            raise PostWithoutRedirect(
                f"POST {request.path} ({request.endpoint}) answered {response.status} with "
                "a page: redirect after success (post/redirect/get); show errors with 4xx")
        return response

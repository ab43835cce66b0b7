"""Signing in checks the password (scrypt: slow on purpose) before its write transaction
begins, so on SQLite it holds up no other writer while it hashes."""
from __future__ import annotations

import sqlite3

import flask_migrate
import pytest
from sqlalchemy import update
from werkzeug.security import generate_password_hash

from referrals import create_app
from referrals.auth import service
from referrals.extensions import db as _db
from referrals.models import Role, User
from tests.builders import Builders

PASSWORD = "correct horse battery"


def watch_the_check(monkeypatch, during):
    """Call `during()` while authenticate checks the password; return what it gave."""
    seen = []
    real = service.check_password_hash

    def check(stored, password):
        seen.append(during())
        return real(stored, password)

    monkeypatch.setattr(service, "check_password_hash", check)
    return seen


def test_the_password_is_checked_before_the_sign_in_transaction_begins(db, make, monkeypatch):
    user = make.user(Role.CONNECTOR, password=PASSWORD)
    email, user_id = user.email, user.id
    db.session.commit()  # and nothing read since: a page's request starts like this
    open_then = watch_the_check(monkeypatch, lambda: db.session().in_transaction())

    assert service.authenticate(email, PASSWORD).id == user_id
    assert open_then == [False]


def test_a_password_changed_while_it_was_being_checked_is_refused(db, make, monkeypatch):
    user = make.user(Role.CONNECTOR, password=PASSWORD)
    email, user_id = user.email, user.id
    db.session.commit()

    def change_it():
        db.session.execute(update(User).where(User.id == user_id).values(
            password_hash=generate_password_hash("a brand new password", "pbkdf2:sha256:1000")))
        db.session.commit()

    watch_the_check(monkeypatch, change_it)

    with pytest.raises(service.InvalidCredentials):
        service.authenticate(email, PASSWORD)


@pytest.fixture
def sqlite_file_app(tmp_path):
    """An app on a committed SQLite file, so another connection can try for the lock."""
    path = tmp_path / "sign-in.db"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        flask_migrate.upgrade()
        yield app, path
        _db.session.remove()
        _db.engine.dispose()


def test_on_sqlite_no_write_lock_is_held_while_the_password_is_checked(
        sqlite_file_app, monkeypatch):
    _, path = sqlite_file_app
    user = Builders(_db.session).user(Role.CONNECTOR, password=PASSWORD)
    email, user_id = user.email, user.id
    _db.session.commit()

    def another_writer_can_begin() -> bool:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    free_then = watch_the_check(monkeypatch, another_writer_can_begin)

    assert service.authenticate(email, PASSWORD).id == user_id
    _db.session.commit()
    assert free_then == [True]

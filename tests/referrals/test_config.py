"""Configuration: class defaults, then instance/config.py, then the environment.

Every test starts from a clean environment and an empty instance folder of its own,
so a developer's real SECRET_KEY, DATABASE_URL or instance/config.py cannot leak in.
"""
from __future__ import annotations

import os

import pytest

from referrals import config as config_module
from referrals import create_app
from referrals.config import database_url, load_config
from referrals.extensions import db


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("KINDLY_") or name in ("SECRET_KEY", "DATABASE_URL"):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setattr(config_module, "INSTANCE_PATH", instance)
    return instance


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'kindly.db'}"


@pytest.fixture
def with_database(monkeypatch, sqlite_url):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


# --- secrets -----------------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(with_database):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set for the production"):
        create_app("production")


def test_an_empty_secret_key_counts_as_no_secret_key(monkeypatch, with_database):
    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_kindly_env_production_also_refuses_without_a_secret_key(monkeypatch, with_database):
    monkeypatch.setenv("KINDLY_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_starts_with_the_secret_key_from_the_environment(monkeypatch,
                                                                    with_database):
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    app = create_app("production")
    assert app.config["ENV_NAME"] == "production"
    assert app.secret_key == "a-long-production-secret"
    assert not app.testing


def test_development_keeps_a_generated_key_in_the_instance_folder(clean_environment,
                                                                  with_database):
    first = create_app("development")
    second = create_app("development")
    key_file = clean_environment / "dev-secret-key"
    assert key_file.read_text().strip() == first.secret_key
    assert len(first.secret_key) >= 32
    assert second.secret_key == first.secret_key  # sign-ins survive a restart
    assert key_file.stat().st_mode & 0o077 == 0


def test_an_unknown_environment_name_is_refused(monkeypatch, with_database):
    monkeypatch.setenv("KINDLY_ENV", "staging")
    with pytest.raises(RuntimeError, match="Unknown KINDLY_ENV 'staging'"):
        create_app()


# --- the database ------------------------------------------------------------------


def test_database_url_from_the_environment_is_the_one_used(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "s3cret-for-this-test")
    app = create_app("production")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    with app.app_context():
        assert db.engine.url.database == str(tmp_path / "elsewhere.db")


def test_database_url_from_the_environment_beats_the_instance_file(monkeypatch, clean_environment,
                                                                   sqlite_url):
    (clean_environment / "config.py").write_text('SQLALCHEMY_DATABASE_URI = "sqlite:///x.db"\n')
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert load_config("development").SQLALCHEMY_DATABASE_URI == sqlite_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://kindly:pw@db.example:5432/kindly",
         "postgresql+psycopg://kindly:pw@db.example:5432/kindly"),
        ("postgresql://kindly@db.example/kindly", "postgresql+psycopg://kindly@db.example/kindly"),
        ("postgresql+psycopg://kindly@db.example/kindly",
         "postgresql+psycopg://kindly@db.example/kindly"),
        ("sqlite:////srv/kindly/kindly.db", "sqlite:////srv/kindly/kindly.db"),
    ],
)
def test_postgres_urls_are_normalised_to_psycopg_3(monkeypatch, given, used):
    assert database_url(given) == used
    monkeypatch.setenv("DATABASE_URL", given)
    assert load_config("development").SQLALCHEMY_DATABASE_URI == used


# --- cookies -----------------------------------------------------------------------


def test_production_cookies_are_secure(monkeypatch, with_database):
    monkeypatch.setenv("SECRET_KEY", "s3cret-for-this-test")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_development_cookies_work_over_plain_http(with_database):
    app = create_app("development")
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["REMEMBER_COOKIE_SECURE"] is False


# --- overriding any setting --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("50", 50),
        ("false", False),
        ('["a", "b"]', ["a", "b"]),
        ('{"pool_size": 5}', {"pool_size": 5}),
        ("Kindly Vale", "Kindly Vale"),  # not JSON: taken as the plain string
    ],
)
def test_kindly_settings_in_the_environment_are_parsed_as_json(monkeypatch, with_database, raw,
                                                               value):
    monkeypatch.setenv("KINDLY_PAGE_SIZE", raw)
    app = create_app("development")
    assert app.config["PAGE_SIZE"] == value


def test_a_json_environment_setting_reaches_the_app(monkeypatch, with_database):
    monkeypatch.setenv("KINDLY_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("KINDLY_SESSION_COOKIE_SECURE", "true")
    app = create_app("development")
    assert app.config["LOGIN_MAX_FAILURES"] == 3
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_environment_beats_the_instance_file_and_explicit_settings_beat_both(
    monkeypatch, clean_environment
):
    (clean_environment / "config.py").write_text(
        'PAGE_SIZE = 10\nSERVICE_NAME = "From the file"\nlowercase_is_ignored = 1\n'
    )
    monkeypatch.setenv("KINDLY_PAGE_SIZE", "30")

    from_env = load_config("development")
    assert from_env.PAGE_SIZE == 30
    assert from_env.SERVICE_NAME == "From the file"
    assert not hasattr(from_env, "lowercase_is_ignored")

    explicit = load_config({"ENV_NAME": "development", "PAGE_SIZE": 99})
    assert explicit.PAGE_SIZE == 99


def test_a_bad_self_referral_limit_stops_the_app_at_start_not_at_first_use():
    with pytest.raises(RuntimeError, match="SELF_REFERRAL_RATE_LIMIT"):
        create_app({"ENV_NAME": "test", "SELF_REFERRAL_RATE_LIMIT": {"fortnight": 3}})


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for():
    app = create_app({"ENV_NAME": "test", "PROXY_FIX_HOPS": 1})

    @app.get("/_whoami")
    def whoami():
        from flask import request
        return request.remote_addr or ""

    answer = app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"})

    assert answer.text == "203.0.113.9"

"""Configuration: class defaults, then instance/config.py, then the environment.

Every test starts from a clean environment and an empty instance folder of its own,
so a developer's real SECRET_KEY, DATABASE_URL or instance/config.py cannot leak in.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from referrals import config as config_module
from referrals import create_app
from referrals.config import ENVIRONMENT_SWITCHES, database_url, known_settings, load_config
from referrals.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def with_mail(monkeypatch):
    monkeypatch.setenv("KINDLY_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("KINDLY_MAIL_FROM", "Kindlebury Connectors <kindly@kindlebury.example.org>")


@pytest.fixture
def production(monkeypatch, with_database, with_mail):
    """Everything production needs, from the environment; each test then takes one away."""
    monkeypatch.setenv("KINDLY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")


# --- secrets -----------------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, production):
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set for the production"):
        create_app("production")


def test_an_empty_secret_key_counts_as_no_secret_key(monkeypatch, production):
    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_kindly_env_production_also_refuses_without_a_secret_key(monkeypatch, production):
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_starts_with_the_secret_key_from_the_environment(production):
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


def test_database_url_from_the_environment_is_the_one_used(monkeypatch, tmp_path, production):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
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


def test_production_cookies_are_secure(production):
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


# --- production fails closed --------------------------------------------------------


def refusal(config="production") -> str:
    with pytest.raises(RuntimeError) as raised:
        create_app(config)
    return str(raised.value)


def test_production_starts_when_everything_it_needs_is_given(production):
    app = create_app()

    assert app.config["ENV_NAME"] == "production"
    assert app.config["SMTP_HOST"] == "smtp.example.org"


def test_production_refuses_the_built_in_database(monkeypatch, production):
    monkeypatch.delenv("DATABASE_URL")

    message = refusal()

    assert "DATABASE_URL must be set" in message
    assert "SECRET_KEY" not in message  # only what is wrong is named


def test_production_accepts_sqlite_when_it_is_named(monkeypatch, production, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'town.db'}")

    assert create_app().config["SQLALCHEMY_DATABASE_URI"].endswith("town.db")


def test_a_database_named_in_the_instance_file_is_explicit_too(monkeypatch, clean_environment,
                                                               production, sqlite_url):
    monkeypatch.delenv("DATABASE_URL")
    (clean_environment / "config.py").write_text(f'SQLALCHEMY_DATABASE_URI = "{sqlite_url}"\n')

    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == sqlite_url


@pytest.mark.parametrize("setting", ["SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE",
                                     "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_HTTPONLY"])
def test_production_refuses_cookies_that_were_made_insecure(monkeypatch, production, setting):
    monkeypatch.setenv(f"KINDLY_{setting}", "false")

    assert f"{setting} must be true (it is False)" in refusal()


def test_production_refuses_insecure_cookies_from_the_instance_file(clean_environment,
                                                                   production):
    (clean_environment / "config.py").write_text("SESSION_COOKIE_SECURE = False\n")

    assert "SESSION_COOKIE_SECURE must be true" in refusal()


def test_production_refuses_cookies_sent_with_cross_site_requests(monkeypatch, production):
    monkeypatch.setenv("KINDLY_SESSION_COOKIE_SAMESITE", "None")

    assert "SESSION_COOKIE_SAMESITE must be" in refusal()


def test_production_refuses_to_start_without_a_mail_server(monkeypatch, production):
    monkeypatch.delenv("KINDLY_SMTP_HOST")

    message = refusal()

    assert "SMTP_HOST must be set (KINDLY_SMTP_HOST)" in message
    assert "invitations and password reset links go by email" in message


def test_production_refuses_the_example_sender_address(monkeypatch, production):
    monkeypatch.delenv("KINDLY_MAIL_FROM")

    assert "MAIL_FROM must be your own sender address" in refusal()


def test_in_app_only_notifications_still_need_a_mail_server_for_account_emails(
        monkeypatch, production):
    monkeypatch.delenv("KINDLY_SMTP_HOST")
    monkeypatch.setenv("KINDLY_NOTIFICATIONS_IN_APP_ONLY", "true")

    assert "SMTP_HOST must be set" in refusal()


def test_in_app_only_notifications_with_a_mail_server_start(monkeypatch, production):
    monkeypatch.setenv("KINDLY_NOTIFICATIONS_IN_APP_ONLY", "true")

    assert create_app().config["NOTIFICATIONS_IN_APP_ONLY"] is True


def test_production_names_every_problem_at_once(monkeypatch, production):
    for name in ("SECRET_KEY", "DATABASE_URL", "KINDLY_SMTP_HOST"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("KINDLY_REMEMBER_COOKIE_SECURE", "false")

    message = refusal()

    for name in ("SECRET_KEY", "DATABASE_URL", "REMEMBER_COOKIE_SECURE", "SMTP_HOST"):
        assert f"  - {name}" in message, message


def test_development_and_test_need_none_of_it(with_database):
    assert create_app("development").config["SMTP_HOST"] == ""
    assert create_app({"ENV_NAME": "test"}).testing


# --- names Kindly does not know -----------------------------------------------------


def test_a_misspelt_kindly_variable_stops_production_naming_it(monkeypatch, production):
    monkeypatch.setenv("KINDLY_PROXY_FIX_HOP", "1")

    message = refusal()

    assert ("The environment sets KINDLY_PROXY_FIX_HOP, which is not a Kindly setting "
            "(did you mean KINDLY_PROXY_FIX_HOPS?)") in message


def test_a_misspelt_kindly_variable_is_a_warning_in_development(monkeypatch, with_database,
                                                                caplog):
    monkeypatch.setenv("KINDLY_SMTP_HOTS", "smtp.example.org")

    with caplog.at_level(logging.WARNING, logger="referrals.config"):
        app = create_app("development")

    assert app.config["SMTP_HOST"] == ""
    assert [record.getMessage() for record in caplog.records] == [
        ("The environment sets KINDLY_SMTP_HOTS, which is not a Kindly setting "
         "(did you mean KINDLY_SMTP_HOST?).")]


def test_an_unknown_name_with_nothing_close_is_still_named(monkeypatch, production):
    monkeypatch.setenv("KINDLY_FROBNICATE", "yes")

    assert "The environment sets KINDLY_FROBNICATE, which is not a Kindly setting." in refusal()


def test_an_unknown_upper_case_name_in_the_instance_file_is_reported(clean_environment,
                                                                     production):
    (clean_environment / "config.py").write_text(
        'MAIL_FORM = "x@example.org"\nlower_case_helper = 1\n_PRIVATE = 2\n')

    message = refusal()

    assert (f"{clean_environment / 'config.py'} sets MAIL_FORM, which is not a Kindly "
            "setting (did you mean MAIL_FROM?)") in message
    assert "lower_case_helper" not in message


@pytest.mark.parametrize("name", sorted(ENVIRONMENT_SWITCHES | {
    "KINDLY_SCHEDULER", "KINDLY_SELF_REFERRAL_RATE_LIMIT", "KINDLY_SQLALCHEMY_ECHO",
    "KINDLY_MAX_CONTENT_LENGTH", "KINDLY_WTF_CSRF_TIME_LIMIT"}))
def test_known_names_are_not_reported(monkeypatch, production, caplog, name):
    if name != "KINDLY_ENV":
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("KINDLY_SELF_REFERRAL_RATE_LIMIT", '{"hour": 5}')

    with caplog.at_level(logging.WARNING, logger="referrals.config"):
        create_app()
        create_app("development")

    assert not caplog.records


# Where the project reads or sets a KINDLY_* variable: Python, shell and make.
_ENV_USE = re.compile(
    r"""(?:environ(?:\.get)?\(?\[?|getenv\(|setenv\(|delenv\()\s*["'](KINDLY_[A-Z0-9_]+)"""
    r"""|\b(KINDLY_[A-Z0-9_]+)=""")


def test_every_kindly_variable_the_project_uses_is_known():
    used = set()
    files = [PROJECT_ROOT / ".ci" / "run", PROJECT_ROOT / "Makefile", PROJECT_ROOT / "wsgi.py"]
    for folder in ("referrals", "fhir_adapters", "reports", "bench", "tests"):
        files += (PROJECT_ROOT / folder).rglob("*.py")
    for path in files:
        if path == Path(__file__).resolve():
            continue  # this file misspells names on purpose
        for match in _ENV_USE.finditer(path.read_text()):
            used.add(match.group(1) or match.group(2))
    assert "KINDLY_REQUIRE_PDF" in used and "KINDLY_SCHEDULER" in used, "the scan is broken"

    unknown = {name for name in used - ENVIRONMENT_SWITCHES
               if name.removeprefix("KINDLY_") not in known_settings()}

    assert not unknown, (f"{sorted(unknown)} are used but would be reported as misspelt: "
                         "declare the setting in a Config class, or the switch in "
                         "referrals.config.ENVIRONMENT_SWITCHES")


# Where the code reads a setting: config["X"], config.get("X"), app.config[...] and so on.
_SETTING_READ = re.compile(r"""config(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_every_setting_the_code_reads_is_declared_so_the_environment_may_set_it():
    read = set()
    for folder in ("referrals", "fhir_adapters", "reports", "bench"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            read |= set(_SETTING_READ.findall(path.read_text()))
    assert {"PAGE_SIZE", "SMTP_HOST", "PUBLIC_URL"} <= read, "the scan is broken"

    undeclared = {name for name in read if name not in known_settings()
                  and not name.startswith(config_module.EXTENSION_PREFIXES)}

    assert not undeclared, (f"{sorted(undeclared)} are read but not declared in a Config "
                            "class, so KINDLY_<NAME> would be reported as a misspelling "
                            "(and refused in production): declare each with its default")

"""Configuration classes.

Precedence, lowest first: the class's defaults, then `instance/config.py`, then
environment variables (`DATABASE_URL`, `SECRET_KEY`, and `KINDLY_<SETTING>` for
any other setting). Production refuses to start without its secrets.
"""
from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = PROJECT_ROOT / "instance"


def database_url(url: str) -> str:
    """Normalise a database URL so PostgreSQL goes through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_PATH / 'kindly.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # SQLite only: how long a write waits in line for the write lock (referrals/database.py).
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=9)
    WTF_CSRF_TIME_LIMIT = 9 * 3600  # a whole clinic session

    # Login throttling: this many failures within the window lock the account
    # for the rest of the window.
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW_MINUTES = 15

    PAGE_SIZE = 25
    # The largest request body taken, in bytes (Flask answers 413 beyond it, whether or
    # not the client sent a Content-Length). A referral Bundle is a few kilobytes.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Self-referrals taken from one client address per window (referrals/directory/ratelimit.py);
    # e.g. KINDLY_SELF_REFERRAL_RATE_LIMIT='{"hour": 5, "day": 30}'.
    SELF_REFERRAL_RATE_LIMIT = {"hour": 5, "day": 30}
    SERVICE_NAME = "Kindly"
    TIMEZONE = "Europe/London"

    # Email: off unless SMTP_HOST is set (then notifications go in-app and by email).
    SMTP_HOST = ""
    SMTP_PORT = 587
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = True
    MAIL_FROM = "Kindly <no-reply@kindly.example>"

    # Reminders (referrals/scheduler.py). "in-process" starts the scheduler inside the
    # web process (`make run`, one machine only); production runs `flask --app wsgi
    # scheduler` as its own process instead.
    SCHEDULER = ""
    DIGEST_HOUR = 7  # local time; retried every 15 minutes for the next two hours
    SCHEDULER_CATCH_UP = True  # run each job once on start (see scheduler.build)
    # A claim left unsent this long (a crash between claim and send) is taken over.
    DELIVERY_RETRY_AFTER_MINUTES = 5

    # Postcodes to places (referrals/geo.py): the local table first, then this HTTP
    # lookup when set — "{postcode}" is replaced, and a postcodes.io-style answer
    # ({"result": {"latitude": …, "longitude": …}}) is expected — then the outward code.
    POSTCODE_LOOKUP_URL = ""
    # Behind a load balancer or reverse proxy, how many proxies set X-Forwarded-For and
    # -Proto: the self-referral limit counts per client, so it must see the real address.
    PROXY_FIX_HOPS = 0

    # Outcome instruments: the built-in definitions (referrals/outcomes/instruments/) plus
    # these files, e.g. a licensed SWEMWBS or MYCaW wording an organisation holds.
    OUTCOME_INSTRUMENT_FILES: list[str] = []
    # Write the outcome letter as a referral closes (completed, declined, unable to contact).
    LETTERS_ON_CLOSE = True
    POSTCODE_LOOKUP_TIMEOUT = 3.0

    def finalise(self) -> None:
        """Check what the environment must provide; fill safe local defaults."""
        if not self.SECRET_KEY:
            raise RuntimeError(
                f"SECRET_KEY must be set for the {self.ENV_NAME} configuration "
                "(environment variable SECRET_KEY)."
            )


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False

    def finalise(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = _local_secret()


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # Fast hashing keeps the suite quick; production uses werkzeug's scrypt default.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # A scheduler started by a test runs its jobs only when the test says so.
    SCHEDULER_CATCH_UP = False
    # Rendering a PDF on every close would slow every casework test; letter tests turn it on.
    LETTERS_ON_CLOSE = False

    def finalise(self) -> None:
        pass


class ProductionConfig(Config):
    ENV_NAME = "production"


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(config: str | type[Config] | dict | None = None) -> Config:
    """Build the config object: class defaults, instance file, then environment.

    `config` may be a name from CONFIGS, a Config class, or a dict of settings
    applied last (tests use this); a dict's ENV_NAME picks the class it overrides.
    """
    overrides = dict(config) if isinstance(config, dict) else {}
    if isinstance(config, type):
        cls = config
    else:
        name = config if isinstance(config, str) else overrides.pop(
            "ENV_NAME", os.environ.get("KINDLY_ENV", "development")
        )
        try:
            cls = CONFIGS[name]
        except KeyError:
            raise RuntimeError(f"Unknown KINDLY_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
    obj = cls()
    _apply_instance_file(obj)
    _apply_environment(obj)
    for key, value in overrides.items():
        setattr(obj, key, value)
    obj.SQLALCHEMY_DATABASE_URI = database_url(obj.SQLALCHEMY_DATABASE_URI)
    obj.finalise()
    return obj


def _apply_instance_file(obj: Config) -> None:
    path = INSTANCE_PATH / "config.py"
    if path.is_file():
        namespace: dict = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        for key, value in namespace.items():
            if key.isupper():
                setattr(obj, key, value)


def _apply_environment(obj: Config) -> None:
    if url := os.environ.get("DATABASE_URL"):
        obj.SQLALCHEMY_DATABASE_URI = url
    if key := os.environ.get("SECRET_KEY"):
        obj.SECRET_KEY = key
    for name, raw in os.environ.items():
        if name.startswith("KINDLY_") and name != "KINDLY_ENV":
            setting = name.removeprefix("KINDLY_")
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            setattr(obj, setting, value)


def _local_secret() -> str:
    """A per-machine development key kept in instance/ so sign-ins survive restarts."""
    path = INSTANCE_PATH / "dev-secret-key"
    if not path.exists():
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()

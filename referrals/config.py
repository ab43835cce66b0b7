"""Configuration classes.

Precedence, lowest first: the class's defaults, then `instance/config.py`, then
environment variables (`DATABASE_URL`, `SECRET_KEY`, and `KINDLY_<SETTING>` for
any other setting). Production fails closed: it refuses to start without its secret,
an explicit database, secure cookies and a mail setting, or with a setting name it does
not know (a misspelling would otherwise leave the default quietly in force); elsewhere
an unknown name is logged as a warning.
"""
from __future__ import annotations

import difflib
import json
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = PROJECT_ROOT / "instance"
ENV_PREFIX = "KINDLY_"
# KINDLY_* variables that are not settings: the configuration's name, and the switches
# .ci/run sets so the suite fails instead of skipping what the machine lacks.
ENVIRONMENT_SWITCHES = frozenset({
    "KINDLY_ENV", "KINDLY_REQUIRE_POSTGRES", "KINDLY_REQUIRE_BROWSER",
    "KINDLY_REQUIRE_FHIR_VALIDATOR", "KINDLY_REQUIRE_PDF", "KINDLY_REQUIRE_ORUK_SCHEMAS",
    "KINDLY_RACE_ROUNDS",  # tests/referrals/test_races.py: rounds per race
})
# Settings read by Flask's extensions rather than declared below.
EXTENSION_PREFIXES = ("SQLALCHEMY_", "WTF_", "REMEMBER_COOKIE_", "SESSION_COOKIE_")
EXAMPLE_MAIL_FROM = "Kindly <no-reply@kindly.example>"

log = logging.getLogger(__name__)


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

    # Login throttling (referrals/auth/throttle.py): this many failures within the window
    # lock one account from one client address, and this many from one address across
    # all accounts lock the address, each for the rest of the window.
    LOGIN_MAX_FAILURES = 5
    LOGIN_ADDRESS_MAX_FAILURES = 30
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
    MAIL_FROM = EXAMPLE_MAIL_FROM
    SMTP_TIMEOUT = 20  # seconds
    # Kindly's address as people reach it (e.g. https://kindly.example.org), for the links
    # in emails; without it emails carry no links.
    PUBLIC_URL = ""
    # The FHIR base URL clients see, when a proxy changes it; default: this request's /fhir.
    FHIR_BASE_URL = ""
    VERSION = "0.1.0"  # the software version the CapabilityStatement reports
    # Reminders and escalations stay in-app, not emailed, even with SMTP_HOST set (they
    # always go in-app; email is on top). Account emails need SMTP in production anyway.
    NOTIFICATIONS_IN_APP_ONLY = False

    # --- Who runs this Kindly, for the privacy notice and accessibility statement
    # (templates/about/). The demo's values; a real service sets its own.
    ORGANISATION_NAME = "Kindlebury Community Connectors"
    ORGANISATION_ADDRESS = "Kindlebury Community Hub, 1 Market Square, Kindlebury KB1 1AA"
    ORGANISATION_PHONE = "01632 960000"
    PRIVACY_EMAIL = "privacy@kindly.example"  # the data protection officer
    ACCESSIBILITY_EMAIL = "accessibility@kindly.example"
    # How long a referral's record is kept after it closes, as the privacy notice says.
    RECORD_RETENTION_YEARS = 8
    # When the accessibility statement was last reviewed (as the regulations ask).
    ACCESSIBILITY_REVIEWED_ON = "3 December 2026"
    # --- end of who runs this Kindly

    # Filled by load_config(): the settings given explicitly (instance file, environment,
    # code), and a message for each name given that no class declares.
    _explicit: frozenset[str] = frozenset()
    _unknown: tuple[str, ...] = ()

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
    # The scheduler makes each practice's monthly report PDF (reports/monthly.py).
    MONTHLY_REPORTS = True
    # seed-demo adds fifteen months of closed referrals, so the demo's reports have figures.
    DEMO_HISTORY = True
    # How work enqueued by a request (referrals/jobs.py: outcome letters) runs once the
    # request has committed: "thread" (a background thread of this process), "after-request"
    # (in the request's thread, before the response: deterministic, for tests), or "" (only
    # the scheduler's sweep, every minute).
    JOBS_RUN = "thread"
    POSTCODE_LOOKUP_TIMEOUT = 3.0

    # Staff accounts (referrals/accounts/): how long an emailed link to set a password
    # works, and how many "forgot password" requests an email address, or one client
    # address, may make in the window before the answer stays the same but no email goes.
    INVITE_LINK_VALID_DAYS = 7
    RESET_LINK_VALID_MINUTES = 60
    PASSWORD_RESET_MAX_PER_EMAIL = 3
    PASSWORD_RESET_MAX_PER_ADDRESS = 10
    PASSWORD_RESET_WINDOW_MINUTES = 60

    # --- issue 14 (search): the directory's map --------------------------------------
    # Map tiles for the directory's map (Leaflet): a URL with {z}, {x} and {y} (and {s}
    # for subdomains), and the credit the tile provider asks for. Empty: no map, the list
    # only. The Content-Security-Policy allows images from this URL's host and no other.
    MAP_TILE_URL = ""
    MAP_ATTRIBUTION = ""

    # --- issue 15 (matching): safeguarding concerns ---------------------------------
    # The hub's own inbox: a concern is emailed here when no coordinator of the team has
    # signed in that day. What the concern page tells people to call besides 999: the
    # local authority's safeguarding line (the demo's is in Ofcom's drama range).
    HUB_EMAIL = "hub@kindly.example"
    SAFEGUARDING_LA_NAME = "Kindlebury Council adult social care (safeguarding)"
    SAFEGUARDING_LA_PHONE = "01632 960123"
    # --- issue 15 (volunteers) --------------------------------------------------------
    # A volunteer's DBS check is renewed after this many years (references never expire);
    # the coordinator's list warns this many days before. Sign-ups from one client address
    # per window, counted as self-referrals are (referrals/directory/ratelimit.py).
    VOLUNTEER_DBS_RENEW_YEARS = 3
    VOLUNTEER_RENEWAL_WARNING_DAYS = 60
    VOLUNTEER_SIGNUP_RATE_LIMIT = {"hour": 5, "day": 30}
    # --- issue 15 (community): retention (referrals/retention.py) ---------------------
    # Days of inactivity after which a volunteer's record is deleted (or, with history,
    # stripped of personal details) and after which a logged call is deleted.
    VOLUNTEER_RETENTION_DAYS = 1095
    CALL_LOG_RETENTION_DAYS = 730

    def finalise(self) -> None:
        """Fail closed: refuse to start on anything missing or unsafe, naming each one."""
        problems = self.problems()
        if problems:
            raise RuntimeError(
                f"Kindly will not start with the {self.ENV_NAME} configuration:\n"
                + "\n".join(f"  - {problem}" for problem in problems))

    def problems(self) -> list[str]:
        """Everything that makes this configuration unsafe to serve people with."""
        found = []
        if not self.SECRET_KEY:
            found.append(f"SECRET_KEY must be set for the {self.ENV_NAME} configuration "
                         "(environment variable SECRET_KEY).")
        if "SQLALCHEMY_DATABASE_URI" not in self._explicit:
            found.append("DATABASE_URL must be set: production never falls back to the "
                         "development database in instance/ (SQLite is fine when named, "
                         "e.g. DATABASE_URL=sqlite:////srv/kindly/kindly.db).")
        for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE",
                     "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_HTTPONLY"):
            if getattr(self, name) is not True:
                found.append(f"{name} must be true (it is {getattr(self, name)!r}): sign-in "
                             "cookies go over HTTPS only and out of reach of scripts.")
        for name in ("SESSION_COOKIE_SAMESITE", "REMEMBER_COOKIE_SAMESITE"):
            if getattr(self, name) not in ("Lax", "Strict"):
                found.append(f"{name} must be \"Lax\" or \"Strict\" (it is "
                             f"{getattr(self, name)!r}).")
        found += self._mail_problems()
        found += self._unknown
        return found

    def _mail_problems(self) -> list[str]:
        # Invitations and password reset links can only go by email (without SMTP they
        # wait in the development outbox, which production must never rely on).
        if not self.SMTP_HOST:
            return [("SMTP_HOST must be set (KINDLY_SMTP_HOST): invitations and password "
                     "reset links go by email, and reminders too unless "
                     "KINDLY_NOTIFICATIONS_IN_APP_ONLY=true.")]
        if not self.MAIL_FROM or self.MAIL_FROM == EXAMPLE_MAIL_FROM:
            return [(f"MAIL_FROM must be your own sender address (KINDLY_MAIL_FROM), not the "
                     f"example {EXAMPLE_MAIL_FROM!r}.")]
        return []

    def warn_about_unknown_settings(self) -> None:
        for message in self._unknown:
            log.warning("%s", message)


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # OpenStreetMap's own tiles are fine for a developer's demo, not for a live service.
    MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    MAP_ATTRIBUTION = "© OpenStreetMap contributors"

    def finalise(self) -> None:
        self.warn_about_unknown_settings()
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
    MONTHLY_REPORTS = False  # a PDF per practice per run; tests/reports/test_monthly.py turns it on
    DEMO_HISTORY = False  # seconds per seed-demo; tests/reports/test_demo_report.py turns it on
    JOBS_RUN = "after-request"

    def finalise(self) -> None:
        self.warn_about_unknown_settings()


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
    from_file = _apply_instance_file(obj)
    from_environment = _apply_environment(obj)
    for key, value in overrides.items():
        setattr(obj, key, value)
    obj._explicit = frozenset(from_file) | frozenset(from_environment) | frozenset(overrides)
    obj._unknown = (*_unknown(from_file, str(INSTANCE_PATH / "config.py"), "{}"),
                    *_unknown(from_environment, "The environment", ENV_PREFIX + "{}"))
    obj.SQLALCHEMY_DATABASE_URI = database_url(obj.SQLALCHEMY_DATABASE_URI)
    obj.finalise()
    return obj


def known_settings() -> frozenset[str]:
    """Every setting a Config class declares, Flask's own, and the extensions' families."""
    from flask import Flask

    names = {name for cls in (Config, *CONFIGS.values()) for name in dir(cls)
             if name.isupper()}
    return frozenset(names | set(Flask.default_config))


def _unknown(settings: dict[str, str], source: str, name: str) -> list[str]:
    """A message for each name Kindly does not know, with the one probably meant."""
    known = known_settings()
    messages = []
    for setting, _ in sorted(settings.items()):
        if setting in known or setting.startswith(EXTENSION_PREFIXES):
            continue
        close = difflib.get_close_matches(setting, known, n=1, cutoff=0.75)
        hint = f" (did you mean {name.format(close[0])}?)" if close else ""
        messages.append(f"{source} sets {name.format(setting)}, which is not a Kindly "
                        f"setting{hint}.")
    return messages


def _apply_instance_file(obj: Config) -> dict[str, str]:
    """Apply instance/config.py; return the names it set."""
    path = INSTANCE_PATH / "config.py"
    applied: dict[str, str] = {}
    if path.is_file():
        namespace: dict = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        for key, value in namespace.items():
            if key.isupper():
                setattr(obj, key, value)
                applied[key] = key
    return applied


def _apply_environment(obj: Config) -> dict[str, str]:
    """Apply the environment; return the settings it set, each with its variable."""
    applied: dict[str, str] = {}
    if url := os.environ.get("DATABASE_URL"):
        obj.SQLALCHEMY_DATABASE_URI = url
        applied["SQLALCHEMY_DATABASE_URI"] = "DATABASE_URL"
    if key := os.environ.get("SECRET_KEY"):
        obj.SECRET_KEY = key
        applied["SECRET_KEY"] = "SECRET_KEY"
    for name, raw in os.environ.items():
        if name.startswith(ENV_PREFIX) and name not in ENVIRONMENT_SWITCHES:
            setting = name.removeprefix(ENV_PREFIX)
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            setattr(obj, setting, value)
            applied[setting] = name
    return applied


def _local_secret() -> str:
    """A per-machine development key kept in instance/ so sign-ins survive restarts."""
    path = INSTANCE_PATH / "dev-secret-key"
    if not path.exists():
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()

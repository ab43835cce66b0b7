"""Spam protection for the self-referral form.

Three checks, none of which needs JavaScript or a third party:
- a honeypot field people never see (bots fill in every field);
- a minimum time between showing the form and sending it (bots send at once);
- a limit on self-referrals per client address per hour and per day.

Bots caught by the first two are answered exactly as if they had succeeded, so they
learn nothing. The limit is counted from the audit events of the self-referrals
themselves, so every web worker shares it without a table or a cache of its own; the
address is kept only as a keyed hash.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, select

from referrals.extensions import db
from referrals.models import AuditEvent

HONEYPOT_FIELD = "website"
MIN_FILL_SECONDS = 3.0
WINDOWS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1),
           "day": timedelta(days=1)}
_SALT = "kindly-self-referral-form-shown"


@dataclass(frozen=True)
class Limit:
    count: int
    window: str  # a key of WINDOWS

    @property
    def span(self) -> timedelta:
        return WINDOWS[self.window]


def limits_from(setting: dict | None) -> list[Limit]:
    """The limits in the SELF_REFERRAL_RATE_LIMIT setting, e.g. {"hour": 5, "day": 30}."""
    limits = []
    for window, count in (setting or {}).items():
        if window not in WINDOWS:
            raise ValueError(f"SELF_REFERRAL_RATE_LIMIT: unknown window {window!r}; "
                             f"use {', '.join(WINDOWS)}")
        limits.append(Limit(int(count), window))
    return sorted(limits, key=lambda limit: limit.span)


def client_origin(address: str, secret: str) -> str:
    """A keyed hash of the client address: the same client always gives the same
    value, and nobody without the secret key can turn it back into an address."""
    digest = hmac.new(secret.encode(), (address or "").encode(), hashlib.sha256).hexdigest()
    return f"client:{digest}"


def recent_from(origin: str, *, since: datetime, entity_type: str = "referral") -> Select:
    """When this client's self-referrals (or, issue 15, volunteer sign-ups: entity_type
    "volunteer") since `since` were made (ix_audit_event_origin_at: only this client's
    rows are read, however busy the audit table)."""
    return select(AuditEvent.at).where(
        AuditEvent.origin == origin,
        AuditEvent.at >= since,
        AuditEvent.action == "create",
        AuditEvent.entity_type == entity_type,
    )


def over_limit(origin: str, limits: list[Limit], now: datetime,
               entity_type: str = "referral") -> Limit | None:
    """The first limit this client has reached, or None if it may send another."""
    if not limits:
        return None
    longest = max(limit.span for limit in limits)
    times = db.session.scalars(
        recent_from(origin, since=now - longest, entity_type=entity_type)).all()
    for limit in limits:
        if sum(1 for at in times if at >= now - limit.span) >= limit.count:
            return limit
    return None


def shown_token(secret: str, at: float | None = None) -> str:
    """A signed note of when the form was shown, sent back in a hidden field."""
    return URLSafeSerializer(secret, salt=_SALT).dumps(at if at is not None else time.time())


def seconds_since_shown(token: str, secret: str, now: float | None = None) -> float | None:
    """Seconds since the form carrying `token` was shown; None if the token is forged."""
    try:
        shown = URLSafeSerializer(secret, salt=_SALT).loads(token or "")
    except BadSignature:
        return None
    if not isinstance(shown, int | float):
        return None
    return (now if now is not None else time.time()) - shown


def honeypot_filled(formdata) -> bool:
    return bool((formdata.get(HONEYPOT_FIELD) or "").strip())


def sent_too_quickly(token: str, secret: str, minimum: float = MIN_FILL_SECONDS) -> bool:
    """Sent faster than a person could fill the form in, or without a genuine token."""
    seconds = seconds_since_shown(token, secret)
    return seconds is None or seconds < minimum

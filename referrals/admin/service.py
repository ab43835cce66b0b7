"""API clients: create, revoke, and find by bearer token. Callers commit."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from referrals import audit
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import ApiClient, Practice, User, utcnow

TOKEN_PREFIX = "kindly_"
NAME_MAX = 120  # the column's width


class ApiClientInvalid(DomainError):
    """The client cannot be made as asked; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str = "name"):
        self.field = field
        super().__init__(message)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_client(name: str, practices: list[Practice], *, actor: User | None,
                      actor_label: str = "") -> tuple[ApiClient, str]:
    """Create a client for `practices`; return it and its bearer token (shown once, stored hashed)."""
    name = (name or "").strip()
    if not name:
        raise ApiClientInvalid("Give the API client a name")
    if len(name) > NAME_MAX:
        raise ApiClientInvalid(f"Keep the name to {NAME_MAX} characters or fewer")
    if not practices:
        raise ApiClientInvalid("An API client needs at least one practice", field="practices")
    if db.session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise ApiClientInvalid(f"There is already an API client called {name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, token_hash=hash_token(token), token_hint=token[-4:],
                       practices=list(dict.fromkeys(practices)))
    db.session.add(client)
    db.session.flush()
    audit.record("create", actor=actor, actor_label=actor_label, entity_type="api_client",
                 entity_id=client.id, detail={"practices": [p.ods_code for p in practices]})
    return client, token


def revoke_api_client(client: ApiClient, *, actor: User | None, actor_label: str = "") -> None:
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit.record("revoke", actor=actor, actor_label=actor_label, entity_type="api_client",
                     entity_id=client.id)
    db.session.flush()


def client_for_token(token: str | None) -> ApiClient | None:
    """The active client this bearer token belongs to, or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(token)
    client = db.session.scalars(select(ApiClient).where(ApiClient.token_hash == digest)).first()
    # The lookup is by hash; compare again in constant time before trusting it.
    if client is None or not hmac.compare_digest(client.token_hash, digest) or not client.active:
        return None
    return client

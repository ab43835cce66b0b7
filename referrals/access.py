"""THE permission rules.

`scope()` narrows a query to what a user may see; `can()` answers for one object;
`allow()` and `public()` declare who may use a route. The same per-role rules
drive all three, so a list and its detail page can never disagree.
"""
from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, false, or_, select

from referrals import revisions, workflow
from referrals.errors import NotPermitted
from referrals.extensions import db, login_manager
from referrals.models import Referral, ReferralStatus, Role, User


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    CANCEL = "cancel"
    # Casework (the connector's screens).
    ACCEPT = "accept"
    REJECT = "reject"
    RECORD_CONTACT = "record contact"  # contacts and follow-ups
    CLOSE = "close"  # decline, complete, unable to contact
    # The person's choice of what goes back to the practice (referrals.sharing).
    SET_SHARING = "set sharing"
    # A coordinator settles a person's details another practice sent differently.
    RESOLVE_DISCREPANCY = "resolve discrepancy"
    RECORD_RISKS = "record risks"  # the risks a referrer did not state


# Who may make a referral, and who may withdraw one.
REFERRING_ROLES = frozenset({Role.REFERRER})
PRACTICE_ROLES = frozenset({Role.REFERRER, Role.MANAGER})
HUB_ROLES = frozenset({Role.CONNECTOR, Role.COORDINATOR})
# Casework happens while a referral is with its connector.
ACTIVE_STATUSES = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS})
CLINICAL_ROLES = PRACTICE_ROLES | HUB_ROLES


def scope(query: Select, user: User) -> Select:
    """Restrict a query over Referral to the referrals `user` may see."""
    if user.role in PRACTICE_ROLES:
        return query.where(Referral.practice_id == user.practice_id)
    if user.role in HUB_ROLES and user.team_id is None:
        return query.where(false())  # a hub account not yet in a team sees nothing
    if user.role is Role.CONNECTOR:
        # Their team's unassigned queue and their own caseload.
        return query.where(
            Referral.team_id == user.team_id,
            or_(Referral.connector_id.is_(None), Referral.connector_id == user.id),
        )
    if user.role is Role.COORDINATOR:
        return query.where(Referral.team_id == user.team_id)
    return query.where(false())


def can_see(user: User, referral: Referral) -> bool:
    if user.role in HUB_ROLES and user.team_id is None:
        return False
    if user.role in PRACTICE_ROLES:
        return referral.practice_id == user.practice_id
    if user.role is Role.CONNECTOR:
        return referral.team_id == user.team_id and referral.connector_id in (None, user.id)
    if user.role is Role.COORDINATOR:
        return referral.team_id == user.team_id
    return False


def can(user: User, action: Action, obj=None) -> bool:
    """May `user` do `action` (to `obj`, when given)?"""
    if not user or not user.is_authenticated or not user.active:
        return False
    if action is Action.CREATE:
        return user.role in REFERRING_ROLES and user.practice_id is not None
    if not isinstance(obj, Referral) or not can_see(user, obj):
        return False
    if action is Action.VIEW:
        return True
    if action is Action.CANCEL:
        return user.role in REFERRING_ROLES and workflow.can_move(obj, ReferralStatus.CANCELLED)
    if action is Action.ACCEPT:
        # A connector takes a queued referral (or one routed to them); coordinators assign.
        return user.role is Role.CONNECTOR and workflow.can_move(obj, ReferralStatus.ACCEPTED)
    if action is Action.REJECT:
        return user.role in HUB_ROLES and workflow.can_move(obj, ReferralStatus.REJECTED)
    if action in (Action.RECORD_CONTACT, Action.CLOSE):
        # The connector holding it, or a coordinator of the team (cover); never the queue.
        holds = user.role is Role.COORDINATOR or (
            user.role is Role.CONNECTOR and obj.connector_id == user.id
        )
        return holds and obj.status in ACTIVE_STATUSES
    if action is Action.SET_SHARING:
        # Whenever the person says so, before or after closing: every later page, FHIR
        # read and letter honours it.
        return user.role is Role.COORDINATOR or (
            user.role is Role.CONNECTOR and obj.connector_id == user.id)
    if action is Action.RESOLVE_DISCREPANCY:
        return user.role is Role.COORDINATOR
    if action is Action.RECORD_RISKS:
        # Before the first visit, so from the moment someone holds it; never the queue.
        holds = user.role is Role.COORDINATOR or (
            user.role is Role.CONNECTOR and obj.connector_id == user.id
        )
        return holds and obj.status.is_open
    return False


def referral_or_404(referral_id: int, *options, for_change: bool = False) -> Referral:
    """The referral with this id if the signed-in user may see it, loaded with
    `options`; anything else is 404, as if it did not exist. `for_change` takes the
    referral's row lock first (revisions.for_change), for a request that will change it."""
    referral = visible_referral(referral_id, *options, for_change=for_change)
    if referral is None:
        abort(404)
    return referral


def visible_referral(referral_id: int, *options, for_change: bool = False) -> Referral | None:
    """As referral_or_404, but None when the user may not see it (any more)."""
    query = scope(select(Referral), current_user).where(Referral.id == referral_id)
    if for_change:
        query = revisions.for_change(query)
    referral = db.session.scalars(query.options(*options)).first()
    if referral is not None and for_change:
        revisions.mark_locked(referral)
    return referral


def require(user: User, action: Action, obj=None) -> None:
    if not can(user, action, obj):
        raise NotPermitted(f"You cannot {action.value} this.")


def allow(*roles: Role):
    """Declare that a route needs a signed-in user with one of `roles`."""
    allowed = frozenset(roles)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = allowed
        return wrapper

    return decorate


def signed_in(view):
    """Declare that a route needs any signed-in user."""
    return allow(*Role)(view)


# Routes for API clients (bearer tokens) declare this; fhir_adapters checks the token.
API_CLIENT = "api-client"


def public(view):
    """Declare that a route is open to anyone, signed in or not."""
    view.access = "public"
    return view

"""THE permission rules.

`scope()` narrows a query to what a user (or an API client) may see; `can()` answers
for one object; `allow()` and `public()` declare who may use a route. The same per-role
rules drive all three, so a list and its detail page can never disagree. No other module
compares roles or practices to decide who may see or do something: it asks here
(tests/test_boundaries.py walks the code to keep it so).
"""
from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from referrals import revisions, workflow
from referrals.errors import NotPermitted
from referrals.extensions import db, login_manager
from referrals.models import (
    ApiClient,
    ChampionSuggestion,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    DirectoryOrganisation,
    HubCall,
    MatchStatus,
    Offer,
    OutcomeLetter,
    Patient,
    Practice,
    Referral,
    ReferralStatus,
    Role,
    SafeguardingConcern,
    StoredReport,
    Team,
    User,
    Volunteer,
    VolunteerMatch,
    VolunteerRequest,
    VolunteerStatus,
)
from referrals.scopes import Scope, ScopeKind
from referrals.sharing import Audience


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    CANCEL = "cancel"
    # Casework (the connector's screens).
    ACCEPT = "accept"
    REJECT = "reject"
    RECORD_CONTACT = "record contact"  # contacts and follow-ups
    RECORD_MEASURE = "record measure"  # outcome measures
    SET_PREFERENCES = "set preferences"  # what suits the person, for matching
    RECORD_CONNECTION = "record connection"  # put an offer to the person
    UPDATE_CONNECTION = "update connection"  # move a connection on (attended, declined…)
    CLOSE = "close"  # decline, complete, unable to contact
    # The person's choice of what goes back to the practice (referrals.sharing).
    SET_SHARING = "set sharing"
    # A coordinator settles a person's details another practice sent differently.
    RESOLVE_DISCREPANCY = "resolve discrepancy"
    RECORD_RISKS = "record risks"  # the risks a referrer did not state
    RECORD_ETHNIC_CATEGORY = "record ethnic category"  # the person's answer, on their record
    PRODUCE_LETTER = "produce letter"  # a new version of a closed referral's outcome letter
    # The coordinator's hub.
    ASSIGN = "assign"  # give a referral to a connector, or back to the team queue
    MANAGE_TEAM = "manage team"  # route the queue, change the team's rules (obj: a Team)
    SET_AVAILABILITY = "set availability"  # a connector's capacity and away dates (obj: a User)
    EDIT_DIRECTORY = "edit directory"  # organisations and offers, for the whole hub
    RECORD_UNMET_NEED = "record unmet need"  # "no suitable offer found" for a need
    # issue 14 (intake): a GP adds to a person's open referral instead of referring again.
    ADD_INFORMATION = "add information"
    # issue 15 (partners): an offer's place, times, capacity and contact, and confirming
    # them (obj: an Offer): a coordinator, or a partner of the offer's organisation.
    KEEP_LISTING = "keep listing"


# Who may make a referral, and who may withdraw one.
REFERRING_ROLES = frozenset({Role.REFERRER})
PRACTICE_ROLES = frozenset({Role.REFERRER, Role.MANAGER})
HUB_ROLES = frozenset({Role.CONNECTOR, Role.COORDINATOR})
# Casework happens while a referral is with its connector.
ACTIVE_STATUSES = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS})
CLINICAL_ROLES = PRACTICE_ROLES | HUB_ROLES
# Work on a referral the connector holds (or a coordinator covers) while it is active.
# Separate actions, one rule today, so each can change alone.
CASEWORK = frozenset({Action.RECORD_CONTACT, Action.RECORD_MEASURE, Action.SET_PREFERENCES,
                      Action.RECORD_CONNECTION, Action.UPDATE_CONNECTION, Action.CLOSE,
                      Action.RECORD_UNMET_NEED})
# What require() says when the answer is no; anything else gets the generic sentence.
COORDINATORS_ONLY = "Only the team's coordinator can do this."
REFUSALS = {
    Action.ASSIGN: COORDINATORS_ONLY,
    Action.MANAGE_TEAM: COORDINATORS_ONLY,
    Action.SET_AVAILABILITY: COORDINATORS_ONLY,
    Action.EDIT_DIRECTORY: "Only a hub coordinator can change the directory.",
    Action.KEEP_LISTING: "You can only change your own organisation's listings.",
}


def scope(query: Select, user: User | ApiClient) -> Select:
    """Restrict a query over Referral (or joined to it) to the referrals `user` may see.

    An API client sees the referrals of the practices it acts for."""
    if isinstance(user, ApiClient):
        return query.where(Referral.practice_id.in_(client_practice_ids(user)))
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


def can_see(user: User | ApiClient, referral: Referral) -> bool:
    if isinstance(user, ApiClient):
        return referral.practice_id in client_practice_ids(user)
    if user.role in HUB_ROLES and user.team_id is None:
        return False
    if user.role in PRACTICE_ROLES:
        return referral.practice_id == user.practice_id
    if user.role is Role.CONNECTOR:
        return referral.team_id == user.team_id and referral.connector_id in (None, user.id)
    if user.role is Role.COORDINATOR:
        return referral.team_id == user.team_id
    return False


def can(user: User | ApiClient, action: Action, obj=None) -> bool:
    """May `user` do `action` (to `obj`, when given)?"""
    if isinstance(user, ApiClient):
        # A GP system reads its practices' referrals. It refers only for
        # referring_practices(), and cancels only what it can see (the FHIR API loads
        # every referral through scope()).
        return action is Action.VIEW and isinstance(obj, Referral) and can_see(user, obj)
    if not user or not user.is_authenticated or not user.active:
        return False
    if action is Action.CREATE:
        return user.role in REFERRING_ROLES and user.practice_id is not None
    if action is Action.EDIT_DIRECTORY:
        # The directory belongs to the whole hub, not to one team.
        return user.role is Role.COORDINATOR
    if action is Action.KEEP_LISTING:
        return isinstance(obj, Offer) and (user.role is Role.COORDINATOR
                                           or may_keep_listing(user, obj))
    if action is Action.MANAGE_TEAM:
        return isinstance(obj, Team) and _coordinates(user, obj.id)
    if action is Action.SET_AVAILABILITY:
        return isinstance(obj, User) and _coordinates(user, obj.team_id)
    if action is Action.ADD_INFORMATION:
        # Any referring GP, to any practice's open referral (the duplicate refusal offers
        # it); sending never lets them see another practice's referral.
        return (user.role in REFERRING_ROLES and user.practice_id is not None
                and isinstance(obj, Referral) and obj.status.is_open)
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
    if action is Action.ASSIGN:
        return _coordinates(user, obj.team_id)
    if action is Action.PRODUCE_LETTER:
        # The letter tells how a referral closed, so never before; the connector who held
        # it, or a coordinator of its team.
        return obj.status in workflow.CLOSED_WITH_OUTCOME and _holds(user, obj)
    if action in CASEWORK:
        # The connector holding it, or a coordinator of the team (cover); never the queue.
        return _holds(user, obj) and obj.status in ACTIVE_STATUSES
    if action is Action.SET_SHARING:
        # Whenever the person says so, before or after closing: every later page, FHIR
        # read and letter honours it.
        return _holds(user, obj)
    if action is Action.RESOLVE_DISCREPANCY:
        return user.role is Role.COORDINATOR
    if action in (Action.RECORD_RISKS, Action.RECORD_ETHNIC_CATEGORY):
        # Before the first visit, so from the moment someone holds it; never the queue.
        return _holds(user, obj) and obj.status.is_open
    return False


def _holds(user: User, referral: Referral) -> bool:
    """The referral's own connector, or a coordinator of its team (cover)."""
    return user.role is Role.COORDINATOR or (
        user.role is Role.CONNECTOR and referral.connector_id == user.id)


def _coordinates(user: User, team_id: int | None) -> bool:
    return user.role is Role.COORDINATOR and user.team_id is not None \
        and user.team_id == team_id


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
        raise NotPermitted(REFUSALS.get(action, f"You cannot {action.value} this."))


def sharing_audience(user) -> Audience:
    """Whose reading a user's is (referrals.sharing): practice staff read what the
    practice may, hub staff the whole record, anyone else nothing but codes."""
    role = getattr(user, "role", None)  # an API client has none
    if role in PRACTICE_ROLES:
        return Audience.PRACTICE
    if role in HUB_ROLES:
        return Audience.HUB
    return Audience.EMAIL


# --- who holds referrals, and who oversees a team -----------------------------------


def holds_caseload(user: User) -> bool:
    """Connectors hold referrals on a caseload (and have a capacity); coordinators assign
    them and cover, but hold none of their own."""
    return user.role.holds_caseload


def may_hold(user: User, referral: Referral) -> bool:
    """May `user` be given this referral: an active connector in the referral's team."""
    return (user.active and holds_caseload(user) and user.team_id is not None
            and user.team_id == referral.team_id)


def caseload_holders(team_id: int) -> ColumnElement[bool]:
    """Users routing may give the team's referrals to: its active connectors."""
    return and_(User.team_id == team_id, User.role == Role.CONNECTOR, User.active.is_(True))


def team_coordinators(team_ids) -> ColumnElement[bool]:
    """Users told of a team's overdue work: its active coordinators."""
    return and_(User.role == Role.COORDINATOR, User.active.is_(True), User.team_id.in_(team_ids))


def managed_connectors(user: User) -> ColumnElement[bool]:
    """Connectors whose capacity and away dates `user` may see and set: the active
    connectors of a coordinator's own team."""
    if user.role is not Role.COORDINATOR or user.team_id is None:
        return false()
    return caseload_holders(user.team_id)


# --- outcome letters --------------------------------------------------------------


def scope_letters(query: Select, user: User) -> Select:
    """Restrict a query over OutcomeLetter to a practice's inbox: its own copies only."""
    if user.role in PRACTICE_ROLES and user.practice_id is not None:
        return query.where(OutcomeLetter.practice_id == user.practice_id)
    return query.where(false())


def can_read_letter(user: User, letter: OutcomeLetter, referral: Referral) -> bool:
    """A letter of a referral the user may see; practice staff read their own copies."""
    if letter.referral_id != referral.id or not can_see(user, referral):
        return False
    if user.role in PRACTICE_ROLES:
        return letter.practice_id == user.practice_id
    return True


def receipts_letter(user: User, letter: OutcomeLetter) -> bool:
    """Opening the letter is the practice's read receipt: only its own staff give one."""
    return user.role in PRACTICE_ROLES and letter.practice_id == user.practice_id


def has_letter_inbox(user: User) -> bool:
    """Whose navigation counts the practice's letters waiting (and who may mark them)."""
    return user.is_authenticated and user.role in PRACTICE_ROLES and user.practice_id is not None


def may_mark_letter_actions(user: User, letter: OutcomeLetter) -> bool:
    """The actions are the practice's to do, so only its own active staff mark them done
    (a connector or another practice never can)."""
    return has_letter_inbox(user) and user.active and letter.practice_id == user.practice_id


# --- reports ----------------------------------------------------------------------

# Who reads period reports: a practice manager for their practice, a coordinator for
# their hub and any practice or PCN it serves.
REPORT_ROLES = frozenset({Role.MANAGER, Role.COORDINATOR})


def report_scope(user: User, kind: str, *, practice_id: int | None = None,
                 pcn: str | None = None):
    """The Scope (referrals.scopes) `user` asked for, or None when they may not have it (the
    view answers 404, as for anything not theirs). A manager's is always their own
    practice, whatever `practice_id` says."""
    if not user.is_authenticated or not user.active or user.role not in REPORT_ROLES:
        return None
    if user.role is Role.MANAGER:
        if kind != ScopeKind.PRACTICE or user.practice_id is None \
                or practice_id not in (None, user.practice_id):
            return None
        return Scope(ScopeKind.PRACTICE, user.practice.name, (user.practice_id,))
    team = db.session.get(Team, user.team_id) if user.team_id is not None else None
    if team is None:
        return None
    if kind == ScopeKind.HUB:
        return Scope(ScopeKind.HUB, team.name, tuple(p.id for p in team.practices), team.id)
    if kind == ScopeKind.PRACTICE:
        practice = next((p for p in team.practices if p.id == practice_id), None)
        return Scope(ScopeKind.PRACTICE, practice.name, (practice.id,)) if practice else None
    if kind == ScopeKind.PCN and pcn:
        ids = tuple(p.id for p in team.practices if p.pcn_name == pcn)
        return Scope(ScopeKind.PCN, pcn, ids) if ids else None
    return None


def report_choices(user: User) -> list[tuple[ScopeKind, str, dict]]:
    """The reports `user` may ask for, as (kind, label, report_scope's keywords): a
    manager their practice; a coordinator their hub, its PCNs and its practices."""
    if not user.is_authenticated or not user.active or user.role not in REPORT_ROLES:
        return []
    if user.role is Role.MANAGER:
        return [(ScopeKind.PRACTICE, user.practice.name, {})] if user.practice else []
    team = db.session.get(Team, user.team_id) if user.team_id is not None else None
    if team is None:
        return []
    practices = sorted(team.practices, key=lambda p: p.name)
    choices = [(ScopeKind.HUB, f"The whole hub: {team.name}", {})]
    choices += [(ScopeKind.PCN, f"PCN: {name}", {"pcn": name})
                for name in sorted({p.pcn_name for p in practices if p.pcn_name})]
    choices += [(ScopeKind.PRACTICE, f"Practice: {p.name}", {"practice_id": p.id})
                for p in practices]
    return choices


def may_export_identifiable(user: User) -> bool:
    """Row-level exports with names and NHS numbers: only a report reader who has been
    given the extra permission (admin, `flask --app wsgi grant-identifiable-exports`)."""
    return bool(user.is_authenticated and user.active and user.role in REPORT_ROLES
                and user.identifiable_exports)


def reads_reports(user: User) -> bool:
    """Could `user` read period reports at all (before any export permission)?"""
    return bool(user.active and user.role in REPORT_ROLES)


def scope_stored_reports(query: Select, user: User) -> Select:
    """Restrict a query over StoredReport to those `user` may open: a manager their own
    practice's; a coordinator those of the practices their team serves."""
    if not user.is_authenticated or not user.active:
        return query.where(false())
    if user.role is Role.MANAGER and user.practice_id is not None:
        return query.where(StoredReport.practice_id == user.practice_id)
    if user.role is Role.COORDINATOR and user.team_id is not None:
        return query.where(StoredReport.practice_id.in_(
            select(Practice.id).where(Practice.team_id == user.team_id)))
    return query.where(false())


def may_choose_report_emails(user: User) -> bool:
    """The monthly report email is a practice manager's own choice, for their practice."""
    return bool(user.is_authenticated and user.active and user.role is Role.MANAGER
                and user.practice_id is not None)


def report_email_recipients(practice_id: int) -> ColumnElement[bool]:
    """Users emailed a practice's monthly report: its active managers who asked."""
    return and_(User.role == Role.MANAGER, User.active.is_(True),
                User.practice_id == practice_id, User.report_emails.is_(True))


def receives_report_emails(user: User, practice_id: int) -> bool:
    """Does `user` still want (and may still have) this practice's report email?"""
    return bool(user.active and user.role is Role.MANAGER
                and user.practice_id == practice_id and user.report_emails)


# --- API clients (the FHIR API) -----------------------------------------------------


def client_practice_ids(client: ApiClient) -> list[int]:
    """The practices an API client acts for: it sees, and refers for, only these."""
    return [p.id for p in client.practices] if client.active else []


def referring_practices(client: ApiClient) -> list:
    """The practices an API client may send referrals for."""
    return list(client.practices) if client.active else []


def scope_patients(query: Select, user: User | ApiClient) -> Select:
    """Restrict a query over Patient to people with a referral `user` may see."""
    return query.where(Patient.id.in_(scope(select(Referral.patient_id), user)))


def scope_directory(query: Select, user: User | ApiClient | None = None) -> Select:
    """The directory is public (/directory, /openreferral) and holds nothing about a
    person: everyone sees all of it, an API client whatever its practices."""
    return query


# --- staff accounts (issue 14): who manages whose account -------------------------

# The roles a hub coordinator may give, and whose accounts in their team they manage.
# Partners are hub-wide (issue 15, below); volunteers get their accounts by approval.
COORDINATOR_GRANTABLE_ROLES = frozenset({Role.CONNECTOR, Role.PARTNER})
ACCOUNT_MANAGERS = frozenset({Role.ADMIN, Role.MANAGER, Role.COORDINATOR})


def manageable_roles(actor: User) -> frozenset[Role]:
    """The roles `actor` gives and manages (in their scope): an admin all; a manager their
    practice's referrers and managers; a coordinator COORDINATOR_GRANTABLE_ROLES."""
    if not actor.is_authenticated or not actor.active:
        return frozenset()
    if actor.role is Role.ADMIN:
        return frozenset(Role)
    if actor.role is Role.MANAGER and actor.practice_id is not None:
        return PRACTICE_ROLES
    if actor.role is Role.COORDINATOR and actor.team_id is not None:
        return COORDINATOR_GRANTABLE_ROLES
    return frozenset()


def scope_users(query: Select, actor: User) -> Select:
    """Restrict a query over User to the accounts `actor` manages (and may see listed)."""
    roles = manageable_roles(actor)
    if not roles:
        return query.where(false())
    if actor.role is Role.ADMIN:
        return query
    query = query.where(User.role.in_(sorted(roles)))
    if actor.role is Role.MANAGER:
        return query.where(User.practice_id == actor.practice_id)
    return query.where(or_(User.team_id == actor.team_id, _hub_wide_accounts(actor)))


def may_manage(actor: User, user: User) -> bool:
    """Is `user`'s account in `actor`'s scope (their own included, to look at)?"""
    if user.role.belongs_to_organisation:
        return may_place_in_organisation(actor, user.role)
    return _places(actor, user.role, user.practice_id, user.team_id)


def may_place(actor: User, role: Role, practice: Practice | None, team: Team | None) -> bool:
    """May `actor` give `role` here (a manager's or a coordinator's own place only)?"""
    return _places(actor, role, practice.id if practice else None, team.id if team else None)


def _places(actor: User, role: Role, practice_id: int | None, team_id: int | None) -> bool:
    if role not in manageable_roles(actor):
        return False
    if actor.role is Role.MANAGER:
        return practice_id is not None and practice_id == actor.practice_id
    if actor.role is Role.COORDINATOR:
        return team_id is not None and team_id == actor.team_id
    return True


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


# --- issue 15 (matching): volunteer requests and matches, safeguarding concerns ---------
# A request belongs to a team: its coordinators work all of them, a connector those of the
# referrals they hold and those from the phone line (no referral). A volunteer answers,
# logs hours on, and raises concerns about only their own matches; a partner raises
# concerns only about their organisation's handovers.

def may_ask_for_volunteer(user: User, referral: Referral) -> bool:
    """Record that a person needs a volunteer: casework on a referral the user holds."""
    return can(user, Action.RECORD_CONNECTION, referral)


def scope_volunteer_requests(query: Select, user: User) -> Select:
    """Restrict a query over VolunteerRequest to those `user` may work."""
    if not user.is_authenticated or not user.active or user.role not in HUB_ROLES \
            or user.team_id is None:
        return query.where(false())
    query = query.where(VolunteerRequest.team_id == user.team_id)
    if user.role is Role.COORDINATOR:
        return query
    return query.where(or_(
        VolunteerRequest.referral_id.is_(None),
        VolunteerRequest.referral_id.in_(
            select(Referral.id).where(Referral.connector_id == user.id))))


def may_work_request(user: User, volunteer_request) -> bool:
    """Find volunteers for, propose, check in on and end matches of this request."""
    if not user.is_authenticated or not user.active or user.role not in HUB_ROLES \
            or user.team_id is None or user.team_id != volunteer_request.team_id:
        return False
    if user.role is Role.COORDINATOR or volunteer_request.referral_id is None:
        return True
    return volunteer_request.referral.connector_id == user.id


def matchable_volunteers(team_id: int) -> ColumnElement[bool]:
    """Volunteers who may be proposed for a team's requests: approved (never applied,
    declined, lapsed or left) and with an active account. Matching narrows
    volunteers.service.matchable_volunteers() (checks done and current) with this."""
    return and_(Volunteer.team_id == team_id, Volunteer.status == VolunteerStatus.APPROVED,
                Volunteer.user_id.in_(select(User.id).where(User.active.is_(True))))


def is_own_match(user: User, match) -> bool:
    """The signed-in volunteer is the one in this match."""
    return bool(user.is_authenticated and user.active and user.role is Role.VOLUNTEER
                and match.volunteer.user_id == user.id)


def scope_own_matches(query: Select, user: User) -> Select:
    """Restrict a query over VolunteerMatch to the signed-in volunteer's own."""
    if not user.is_authenticated or not user.active or user.role is not Role.VOLUNTEER:
        return query.where(false())
    return query.where(VolunteerMatch.volunteer_id.in_(
        select(Volunteer.id).where(Volunteer.user_id == user.id)))


def may_end_match(user: User, match) -> bool:
    """Either side ends a match: its volunteer, or hub staff who work its request."""
    return is_own_match(user, match) or may_work_request(user, match.request)


def may_raise_concern_about_match(user: User, match) -> bool:
    """A volunteer, about the person in one of their matches that has not been declined."""
    return is_own_match(user, match) and match.status is not MatchStatus.DECLINED


def may_raise_concern_about_connection(user: User, connection) -> bool:
    """A partner, about a person handed over (a referral, not a signpost) to one of their
    organisation's offers."""
    return bool(user.is_authenticated and user.active and user.role is Role.PARTNER
                and user.organisation_id is not None
                and connection.kind is ConnectionKind.REFERRAL
                and connection.offer.organisation_id == user.organisation_id)


def concern_recipients(team_id: int) -> ColumnElement[bool]:
    """Who is told of a safeguarding concern at once: every active coordinator of the team."""
    return team_coordinators([team_id])


def may_read_concern(user: User, concern) -> bool:
    """Whoever raised it, and the coordinators of its team (to whom it went)."""
    return bool(user.is_authenticated and user.active) and (
        concern.raised_by_id == user.id or _coordinates(user, concern.team_id))


def scope_concerns(query: Select, user: User) -> Select:
    """Restrict a query over SafeguardingConcern to those of a coordinator's own team."""
    if not user.is_authenticated or not user.active or user.role is not Role.COORDINATOR \
            or user.team_id is None:
        return query.where(false())
    return query.where(SafeguardingConcern.team_id == user.team_id)
# --- issue 15 (volunteers) ---------------------------------------------------------
# A coordinator reviews, checks and decides on their own team's volunteers; a volunteer
# sees and changes only their own record. Matching asks volunteers.service.


def scope_volunteers(query: Select, user: User) -> Select:
    """Restrict a query over Volunteer to the sign-ups `user` reviews: a coordinator's
    own team's."""
    if user.is_authenticated and user.active and user.role is Role.COORDINATOR \
            and user.team_id is not None:
        return query.where(Volunteer.team_id == user.team_id)
    return query.where(false())


def reviews_volunteer(user: User, volunteer: Volunteer) -> bool:
    """May `user` read and decide on this volunteer's record?"""
    return bool(user.is_authenticated and user.active and volunteer is not None
                and _coordinates(user, volunteer.team_id))


def own_volunteer_record(user: User) -> Volunteer | None:
    """The volunteer record of a signed-in VOLUNTEER account; None for anyone else."""
    if not (user.is_authenticated and user.active and user.role is Role.VOLUNTEER):
        return None
    return db.session.scalars(select(Volunteer).where(Volunteer.user_id == user.id)).first()


# --- issue 15 (community: the hub's phone line, community champions) ----------------

# Who logs calls to the hub's phone line and reads the team's call log.
CALL_TAKERS = HUB_ROLES


def takes_calls(user: User) -> bool:
    return bool(user.is_authenticated and user.active and user.role in CALL_TAKERS
                and user.team_id is not None)


def require_call_taker(user: User) -> None:
    if not takes_calls(user):
        raise NotPermitted("Only the hub's coordinators and connectors log calls.")


def scope_calls(query: Select, user: User) -> Select:
    """Restrict a query over HubCall to the calls of the user's own team."""
    if not takes_calls(user):
        return query.where(false())
    return query.where(HubCall.team_id == user.team_id)


def require_call(user: User, call: HubCall) -> None:
    if not (takes_calls(user) and call.team_id == user.team_id):
        raise NotPermitted("This call was logged by another team.")


def champion_record(user: User) -> Volunteer | None:
    """The signed-in volunteer's own record when they are a community champion: an
    approved volunteer with a patch (postcode districts). None for anyone else."""
    volunteer = own_volunteer_record(user)
    if volunteer is None or volunteer.status is not VolunteerStatus.APPROVED \
            or not volunteer.champion_districts:
        return None
    return volunteer


def holds_volunteer_record(user: User) -> bool:
    """A volunteer account, whose sign-in counts as activity on their volunteer record."""
    return getattr(user, "role", None) is Role.VOLUNTEER


def coordinates_volunteers(user: User) -> bool:
    """Sets champions' patches and reviews their suggestions: a team's coordinator."""
    return bool(user.is_authenticated and user.active and user.role is Role.COORDINATOR
                and user.team_id is not None)


def scope_team_volunteers(query: Select, user: User) -> Select:
    """Restrict a query over Volunteer to the coordinator's own team's."""
    if not coordinates_volunteers(user):
        return query.where(false())
    return query.where(Volunteer.team_id == user.team_id)


def scope_suggestions(query: Select, user: User) -> Select:
    """Restrict a query over ChampionSuggestion to those the coordinator reviews."""
    if not coordinates_volunteers(user):
        return query.where(false())
    return query.where(ChampionSuggestion.team_id == user.team_id)


def require_patch_setter(user: User, volunteer: Volunteer) -> None:
    if not (coordinates_volunteers(user) and volunteer.team_id == user.team_id):
        raise NotPermitted(COORDINATORS_ONLY)


def require_reviewer(user: User, suggestion: ChampionSuggestion) -> None:
    """A coordinator of the suggestion's team who may also change the directory."""
    if not (coordinates_volunteers(user) and suggestion.team_id == user.team_id
            and can(user, Action.EDIT_DIRECTORY)):
        raise NotPermitted(COORDINATORS_ONLY)
# --- issue 15 (partners): partner organisations close the loop -----------------------
# A partner acts for one directory organisation (User.organisation_id): they see the warm
# handovers (referral connections) to its offers, only what the person agreed to share,
# answer them, and keep its listings current. Nothing else of Kindly is theirs.

# What a partner may say of a handover (each still a legal move in CONNECTION_MOVES).
PARTNER_ANSWERS = frozenset({ConnectionStatus.TAKEN_ON, ConnectionStatus.NO_CAPACITY,
                             ConnectionStatus.ATTENDED, ConnectionStatus.DID_NOT_ATTEND})


def _hub_wide_accounts(actor: User) -> ColumnElement[bool]:
    """Accounts a coordinator manages whatever their team: partners (the directory, and so
    its organisations' staff, belongs to the whole hub)."""
    roles = sorted(r for r in manageable_roles(actor) if r.belongs_to_organisation)
    return User.role.in_(roles) if roles else false()


def may_place_in_organisation(actor: User, role: Role) -> bool:
    """May `actor` give (or manage) `role` at a directory organisation: an admin, or a
    coordinator (any organisation: the directory is the hub's)."""
    return role.belongs_to_organisation and role in manageable_roles(actor)


def _partner_organisation(user) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.active:
        return None
    return user.organisation_id if user.role is Role.PARTNER else None


def scope_handovers(query: Select, user: User) -> Select:
    """Restrict a query over Connection (joined to Offer) to the warm handovers `user`
    answers for: referral connections to their own organisation's offers."""
    organisation_id = _partner_organisation(user)
    if organisation_id is None:
        return query.where(false())
    return query.where(Connection.kind == ConnectionKind.REFERRAL,
                       Offer.organisation_id == organisation_id)


def can_see_handover(user: User, connection: Connection) -> bool:
    organisation_id = _partner_organisation(user)
    return (organisation_id is not None and connection.kind is ConnectionKind.REFERRAL
            and connection.offer.organisation_id == organisation_id)


def may_answer_handover(user: User, connection: Connection, referral: Referral,
                        status: ConnectionStatus | None = None) -> bool:
    """A partner answers their own organisation's handover while the referral is open,
    with one of PARTNER_ANSWERS (any of them when `status` is None)."""
    return (can_see_handover(user, connection) and referral.status.is_open
            and (status is None or status in PARTNER_ANSWERS))


def may_change_connection(user: User, connection: Connection, referral: Referral,
                          status: ConnectionStatus | None) -> bool:
    """Moving a connection on: the connector's casework, or the partner's answer (with no
    status yet, the service then says to choose one)."""
    return can(user, Action.UPDATE_CONNECTION, referral) or \
        may_answer_handover(user, connection, referral, status)


def scope_partner_offers(query: Select, user: User) -> Select:
    """Restrict a query over Offer to the listings `user` keeps: their organisation's."""
    organisation_id = _partner_organisation(user)
    if organisation_id is None:
        return query.where(false())
    return query.where(Offer.organisation_id == organisation_id)


def may_keep_listing(user: User, offer: Offer) -> bool:
    organisation_id = _partner_organisation(user)
    return organisation_id is not None and offer.organisation_id == organisation_id


def listing_coordinators() -> ColumnElement[bool]:
    """Users told of listings nobody has confirmed for six months: every active hub
    coordinator (the directory belongs to the whole hub)."""
    return and_(User.role == Role.COORDINATOR, User.active.is_(True))


def organisation_partners(organisation_id: str) -> ColumnElement[bool]:
    """Users told of a new warm handover to an organisation: its active partners."""
    return and_(User.role == Role.PARTNER, User.active.is_(True),
                User.organisation_id == organisation_id)


def partner_organisation(user: User) -> DirectoryOrganisation | None:
    """The organisation a signed-in partner acts for (None for anyone else)."""
    return user.organisation if _partner_organisation(user) is not None else None

"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""
from referrals.models.account import (
    AccountToken,
    OutboxMessage,
    PasswordResetRequest,
    TokenPurpose,
)
from referrals.models.addition import ReferralAddition
from referrals.models.api_client import ApiClient
from referrals.models.audit import AuditEvent
from referrals.models.base import Base, utcnow
from referrals.models.casework import (
    Contact,
    ContactChannel,
    ContactOutcome,
    FollowUp,
    FollowUpStatus,
)
from referrals.models.community import (
    CallOutcome,
    HubCall,
    MatchStatus,
    Volunteer,
    VolunteerHours,
    VolunteerMatch,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
)
# --- issue 15 (community): champions' suggestions ---
from referrals.models.champions import ChampionSuggestion, SuggestionKind, SuggestionStatus
from referrals.models.connection import (
    OUTCOME_CONNECTION_STATUSES,
    Connection,
    ConnectionEvent,
    ConnectionKind,
    ConnectionStatus,
)
from referrals.models.directory import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferSearchText,
    OfferStatus,
    PostcodePlace,
    Schedule,
    SearchWord,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from referrals.models.discrepancy import PatientDiscrepancy, Resolution
from referrals.models.job import Job, JobStatus
from referrals.models.notification import DeliveryClaim, Notification
from referrals.models.organisation import Practice, Team
from referrals.models.outcome import (
    CompletionMode,
    LetterTrigger,
    Measurement,
    OutcomeLetter,
    Timepoint,
)
from referrals.models.patient import CommunicationNeed, ContactMethod, Patient, Sex
from referrals.models.referral import (
    OPEN_STATUSES,
    ConsentGivenBy,
    ConsentMethod,
    Referral,
    ReferralChange,
    ReferralEvent,
    ReferralReason,
    ReferralStatus,
    Urgency,
)
from referrals.models.reporting import (
    PostcodeDeprivation,
    StoredReport,
    UnmetNeed,
    UnmetReason,
)
from referrals.models.user import AwayPeriod, LoginAttempt, RememberToken, Role, User

__all__ = [
    "OPEN_STATUSES",
    "OUTCOME_CONNECTION_STATUSES",
    "AccountToken",
    "ApiClient",
    "AuditEvent",
    "AwayPeriod",
    "Base",
    "CallOutcome",
    "CapacityStatus",
    "CommunicationNeed",
    "CompletionMode",
    "Connection",
    "ConnectionEvent",
    "ConnectionKind",
    "ConnectionStatus",
    "ConsentGivenBy",
    "ConsentMethod",
    "Contact",
    "ContactChannel",
    "ContactMethod",
    "ContactOutcome",
    "CostOption",
    "DeliveryClaim",
    "DirectoryOrganisation",
    "FollowUp",
    "FollowUpStatus",
    "HubCall",
    "Job",
    "JobStatus",
    "LetterTrigger",
    "Location",
    "LoginAttempt",
    "MatchStatus",
    "Measurement",
    "Notification",
    "Offer",
    "OfferAttribute",
    "OfferKind",
    "OfferSearchText",
    "OfferStatus",
    "OutboxMessage",
    "OutcomeLetter",
    "PasswordResetRequest",
    "Patient",
    "PatientDiscrepancy",
    "PostcodeDeprivation",
    "PostcodePlace",
    "Practice",
    "Referral",
    "ReferralAddition",
    "ReferralChange",
    "ReferralEvent",
    "ReferralReason",
    "ReferralStatus",
    "RememberToken",
    "Resolution",
    "Role",
    "Schedule",
    "SearchWord",
    "ServiceAtLocation",
    "Sex",
    "StoredReport",
    "Taxonomy",
    "TaxonomyTerm",
    "Team",
    "Timepoint",
    "TokenPurpose",
    "UnmetNeed",
    "UnmetReason",
    "Urgency",
    "User",
    "Volunteer",
    "VolunteerHours",
    "VolunteerMatch",
    "VolunteerOffer",
    "VolunteerRequest",
    "VolunteerStatus",
    "utcnow",
    # issue 15 (community)
    "ChampionSuggestion",
    "SuggestionKind",
    "SuggestionStatus",
]

# --- issue 15 (matching): check-ins on volunteer matches, safeguarding concerns ---
from referrals.models.volunteering import (
    CheckInRating,
    SafeguardingConcern,
    VolunteerCheckIn,
)

__all__ += ["CheckInRating", "SafeguardingConcern", "VolunteerCheckIn"]

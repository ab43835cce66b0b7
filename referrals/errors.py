"""Domain errors. Each surface translates them once: flashes and field errors on
the web, an OperationOutcome with a status code on /fhir."""
from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken; the message is fit to show a user."""


class InvalidNhsNumber(DomainError):
    pass


class IntakeInvalid(DomainError):
    """The referral data broke one or more intake rules.

    `errors` maps a field name (as on the referral form) to its message.
    """

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class DuplicateOpenReferral(DomainError):
    def __init__(self, existing):
        self.existing = existing
        super().__init__(
            f"This person already has an open referral ({existing.reference}). "
            "Add to that referral instead of making a new one."
        )


class IllegalTransition(DomainError):
    def __init__(self, from_status, to_status):
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(
            f"A referral that is {from_status.label.lower()} cannot become "
            f"{to_status.label.lower()}."
        )


class ReasonRequired(DomainError):
    def __init__(self, to_status):
        self.to_status = to_status
        super().__init__(f"Give a reason to mark the referral as {to_status.label.lower()}.")


class NotPermitted(DomainError):
    """The actor may not do this to this object."""


class CaseworkInvalid(DomainError):
    """A contact, follow-up or closing broke a casework rule.

    `errors` maps a form field name to its message, like IntakeInvalid.
    """

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class StaleReferral(DomainError):
    """The referral changed after the version a change started from.

    `changes` are the ReferralChanges since `expected`, to show the person what
    happened; `referral` is the current state.
    """

    def __init__(self, referral, expected: int, changes: list):
        self.referral = referral
        self.expected = expected
        self.changes = changes
        super().__init__("Someone else changed this referral since you opened it.")


class StaleConnection(DomainError):
    """A connection moved on after the version a change started from; `connection` is
    its current state."""

    def __init__(self, connection):
        self.connection = connection
        super().__init__(
            f"Someone else changed this connection since you opened it: it is now "
            f"{connection.status.label.lower()}.")

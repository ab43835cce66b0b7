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

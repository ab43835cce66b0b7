"""Errors on /fhir: one table from exception to HTTP status, one OperationOutcome shape."""
from __future__ import annotations

from pydantic import ValidationError

from referrals.errors import (
    DomainError,
    DuplicateOpenReferral,
    IllegalTransition,
    IntakeInvalid,
    InvalidNhsNumber,
    ReasonRequired,
    StaleReferral,
)


class FhirError(Exception):
    """An error the API answers with `status` and an OperationOutcome."""

    status = 400
    code = "invalid"

    def __init__(self, diagnostics: str, *, expression: list[str] | None = None,
                 status: int | None = None, code: str | None = None, headers=None):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.expression = expression
        self.headers = headers or {}
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class Unauthorised(FhirError):
    status, code = 401, "login"


class Forbidden(FhirError):
    status, code = 403, "forbidden"


class NotFound(FhirError):
    status, code = 404, "not-found"


class Conflict(FhirError):
    status, code = 409, "conflict"


class PreconditionFailed(FhirError):
    status, code = 412, "conflict"


class PreconditionRequired(FhirError):
    status, code = 428, "required"


class UnsupportedMediaType(FhirError):
    status, code = 415, "not-supported"


class BusinessRule(FhirError):
    status, code = 422, "business-rule"


class NotSupported(FhirError):
    status, code = 400, "not-supported"


# Domain errors -> (HTTP status, issue code). Most specific first.
DOMAIN_ERRORS: list[tuple[type[Exception], int, str]] = [
    (DuplicateOpenReferral, 409, "duplicate"),
    # The If-Match named a version the referral has left (checked under its row lock).
    (StaleReferral, 412, "conflict"),
    (InvalidNhsNumber, 422, "business-rule"),
    (IntakeInvalid, 422, "business-rule"),
    (IllegalTransition, 422, "business-rule"),
    (ReasonRequired, 422, "business-rule"),
    (DomainError, 422, "business-rule"),
]


def issue(diagnostics: str, *, code: str = "invalid", severity: str = "error",
          expression: list[str] | None = None) -> dict:
    entry = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        entry["expression"] = expression
    return entry


def outcome(issues: list[dict]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": issues}


def from_fhir_error(exc: FhirError) -> tuple[int, dict]:
    return exc.status, outcome([issue(exc.diagnostics, code=exc.code, expression=exc.expression)])


def from_domain_error(exc: Exception, *, field_paths: dict[str, str] | None = None,
                      field_messages: dict[str, str] | None = None) -> tuple[int, dict]:
    """Map a domain error to its status and an OperationOutcome.

    `field_paths` turns intake form field names into FHIR element paths, and
    `field_messages` replaces the form's words for a field where the API says more.
    """
    for error_type, status, code in DOMAIN_ERRORS:
        if isinstance(exc, error_type):
            break
    else:  # pragma: no cover - DomainError is last and catches the rest
        raise exc
    if isinstance(exc, IntakeInvalid):
        paths, messages = field_paths or {}, field_messages or {}
        issues = [
            issue(messages.get(field, message), code=code,
                  expression=[paths[field]] if field in paths else None)
            for field, message in exc.errors.items()
        ]
        return status, outcome(issues)
    return status, outcome([issue(str(exc), code=code)])


def from_validation_error(exc: ValidationError, *, prefix: str = "") -> FhirError:
    """A pydantic (fhir.resources) validation error as a 400 with element paths."""
    messages, paths = [], []
    for error in exc.errors()[:20]:
        path = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
        path = f"{prefix}.{path}" if prefix and path else (prefix or path)
        messages.append(f"{path}: {error.get('msg', 'invalid')}" if path else error.get("msg", ""))
        if path:
            paths.append(path)
    return FhirError("; ".join(messages) or "Invalid resource", expression=paths or None,
                     code="structure")

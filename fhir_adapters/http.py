"""The /fhir blueprint's plumbing: JSON in and out, bearer tokens, scope, errors, metadata.

Outbound resources are plain dicts (fast); inbound ones are validated by the
fhir.resources R4B models and our own code lists before anything is stored.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import wraps

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from fhir_adapters import codes, fhirjson, search
from fhir_adapters import intake as inbound
from fhir_adapters.capability import capability_statement
from fhir_adapters.errors import (
    FhirError,
    NotFound,
    Unauthorised,
    UnsupportedMediaType,
    from_domain_error,
    from_fhir_error,
    issue,
    outcome,
)
from referrals import access, audit, revisions
from referrals.access import API_CLIENT, public
from referrals.admin.service import client_for_token
from referrals.errors import DomainError, DuplicateOpenReferral
from referrals.extensions import db
from referrals.models import Connection, Patient, Referral, utcnow

bp = Blueprint("fhir", __name__, url_prefix="/fhir")

JSON_TYPES = {codes.MEDIA_TYPE, "application/json", "application/json+fhir"}
PDF = "application/pdf"
# Reads that answer with the raw file when the client prefers it (FHIR Binary read).
RAW_ENDPOINTS = frozenset({"fhir.read_binary"})


# --- plumbing -------------------------------------------------------------------


def respond(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    headers=headers or {}, mimetype=codes.MEDIA_TYPE)


def base_url() -> str:
    return current_app.config.get("FHIR_BASE_URL") or request.url_root.rstrip("/") + "/fhir"


def api_client_required(view):
    """Declare that a route needs an API client's bearer token; sets g.api_client."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorised("Send an API client's token as 'Authorization: Bearer <token>'",
                               headers={"WWW-Authenticate": 'Bearer realm="kindly"'})
        client = client_for_token(token.strip())
        if client is None:
            raise Unauthorised("The bearer token is not valid or has been revoked",
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        g.api_client = client
        return view(*args, **kwargs)

    wrapper.access = API_CLIENT
    return wrapper


@bp.before_request
def negotiate():
    """JSON only: 406 for another _format or Accept, 415 for another request body type."""
    wanted = request.args.get("_format")
    if wanted and wanted not in ("json", *JSON_TYPES):
        raise FhirError("Only JSON is supported (_format=json)", status=406, code="not-supported")
    offered = JSON_TYPES | ({PDF} if request.endpoint in RAW_ENDPOINTS else set())
    if request.headers.get("Accept") and not any(
            media in request.accept_mimetypes for media in offered):
        raise FhirError(f"Only {' or '.join(sorted(offered & {codes.MEDIA_TYPE, PDF}))} "
                        "is available", status=406, code="not-supported")
    if request.method in ("POST", "PUT") and request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"Send {codes.MEDIA_TYPE}, not {request.mimetype or 'no Content-Type'}")


def wants_pdf() -> bool:
    """The client prefers the raw PDF (Accept: application/pdf) to a Binary resource.
    `*/*` or no Accept means FHIR JSON, and so does _format."""
    if request.args.get("_format"):
        return False
    best = request.accept_mimetypes.best_match([codes.MEDIA_TYPE, "application/json", PDF])
    return best == PDF


@bp.errorhandler(FhirError)
def fhir_error(exc: FhirError):
    db.session.rollback()
    status, body = from_fhir_error(exc)
    return respond(body, status, exc.headers)


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    client = g.get("api_client")
    hidden = (isinstance(exc, DuplicateOpenReferral)
              and not (client is not None and access.can_see(client, exc.existing)))
    db.session.rollback()
    status, body = from_domain_error(exc, field_paths=inbound.FIELD_PATHS,
                                     field_messages=inbound.FIELD_MESSAGES)
    if hidden:
        # Another practice's referral: say that it exists, not what it is (as the web form does).
        body = outcome([issue("This person already has an open referral with the connector "
                              "team. Contact the team instead of referring again.",
                              code="duplicate")])
    return respond(body, status)


@bp.errorhandler(StaleDataError)
@bp.errorhandler(IntegrityError)
def lost_race(exc):
    """A write that lost to a concurrent change at the database (revisions, layer 3)."""
    db.session.rollback()
    if not revisions.is_lost_race(exc):
        raise exc
    return respond(outcome([issue("Someone else changed this referral at the same moment; "
                                  "nothing was changed. Read it again and retry.",
                                  code="conflict")]), 409)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return http_outcome(exc)


def http_outcome(exc: HTTPException) -> Response:
    code = {404: "not-found", 405: "not-supported", 413: "too-costly"}.get(exc.code, "exception")
    return respond(outcome([issue(exc.description or exc.name, code=code)]), exc.code or 500)


def body_json() -> dict:
    """The request body as a JSON object that keeps FHIR's JSON rules (fhirjson), else 400.

    Reading it enforces MAX_CONTENT_LENGTH, with or without a Content-Length (413)."""
    raw = request.get_data(cache=False)
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FhirError(f"The body is not valid JSON: {exc}", code="structure") from None
    except RecursionError:
        raise FhirError("The body is nested too deeply", code="structure") from None
    if not isinstance(body, dict):
        raise FhirError("The body must be a JSON object (a FHIR resource)", code="structure")
    fhirjson.check(body)
    return body


def audit_api(action: str, *, entity_type: str, entity_id=None, patient_id=None, **detail):
    audit.record(action, actor=None, actor_label=g.api_client.label, entity_type=entity_type,
                 entity_id=entity_id, patient_id=patient_id, detail=detail or None)


def scoped_referrals():
    """The referrals the calling client may see (access.scope)."""
    return access.scope(select(Referral), g.api_client)


def referral_options(query):
    return query.options(
        selectinload(Referral.patient).selectinload(Patient.practice),
        selectinload(Referral.reasons), selectinload(Referral.referrer),
        selectinload(Referral.connector), selectinload(Referral.team),
        selectinload(Referral.practice), selectinload(Referral.events),
        selectinload(Referral.connections).selectinload(Connection.offer),  # Task.output
        selectinload(Referral.measurements), selectinload(Referral.letters),  # Task.output
    )


def outcome_referrals(ids) -> dict[int, Referral]:
    """The referrals that outcome resources (measurements, letters) belong to, by id, with
    what their mappers read, in one round of queries."""
    ids = set(ids)
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(select(Referral).where(Referral.id.in_(ids))
                                                .options(selectinload(Referral.patient),
                                                         selectinload(Referral.team),
                                                         selectinload(Referral.letters)))}


def load_referral(raw_id: str, prefix: str = "", *, for_change: bool = False) -> Referral:
    """A referral the client may see, or 404 as if it did not exist. `for_change` takes
    its row lock first (revisions.for_change), for a request that will change it."""
    ident = raw_id[len(prefix):] if prefix and raw_id.startswith(prefix) else None if prefix \
        else raw_id
    referral_id = search.parse_id(ident) if ident is not None else None
    if referral_id is None:
        raise NotFound(f"No resource with id {raw_id!r}")
    query = scoped_referrals().where(Referral.id == referral_id)
    if for_change:
        query = revisions.for_change(query)
    referral = db.session.scalars(referral_options(query)).first()
    if referral is None:
        raise NotFound(f"No resource with id {raw_id!r}")
    if for_change:
        revisions.mark_locked(referral)
    return referral


def etag(referral: Referral) -> str:
    return f'W/"{referral.version}"'


def versioned(resource: dict, status: int = 200, **extra) -> Response:
    return respond(resource, status, {**version_headers(resource), **extra})


def version_headers(resource: dict) -> dict:
    """ETag and Last-Modified from the resource's meta."""
    return {"ETag": f'W/"{resource["meta"]["versionId"]}"',
            "Last-Modified": _http_date(resource["meta"]["lastUpdated"])}


def _http_date(value: str) -> str:
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


# --- metadata ------------------------------------------------------------------


@bp.route("/metadata")
@public
def metadata():
    """The CapabilityStatement; no token needed."""
    return respond(capability_statement(base_url(), current_app.config.get("VERSION", "0.1.0"),
                                        utcnow().date().isoformat(),
                                        max_body_bytes=current_app.config["MAX_CONTENT_LENGTH"]))


def scoped_patients():
    """Patients with a referral the client may see."""
    return access.scope_patients(select(Patient), g.api_client)


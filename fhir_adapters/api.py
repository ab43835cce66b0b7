"""The /fhir blueprint: thin handlers that parse, authorise, call the domain and answer JSON.

Outbound resources are plain dicts (fast); inbound ones are validated by the
fhir.resources R4B models and our own code lists before anything is stored.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from fhir_adapters import bundle as bundles
from fhir_adapters import codes, search
from fhir_adapters import consent as consent_map
from fhir_adapters import intake as inbound
from fhir_adapters import organization as org_map
from fhir_adapters import patient as patient_map
from fhir_adapters import servicerequest as sr_map
from fhir_adapters import task as task_map
from fhir_adapters.capability import capability_statement
from fhir_adapters.errors import (
    BusinessRule,
    FhirError,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorised,
    UnsupportedMediaType,
    from_domain_error,
    from_fhir_error,
    issue,
    outcome,
)
from referrals import audit, workflow
from referrals.access import API_CLIENT, public
from referrals.admin.service import client_for_token
from referrals.errors import DomainError, DuplicateOpenReferral
from referrals.extensions import db
from referrals.intake import service as intake_service
from referrals.intake.service import PersonDetails
from referrals.models import Patient, Referral, ReferralStatus, utcnow

bp = Blueprint("fhir", __name__, url_prefix="/fhir")

JSON_TYPES = {codes.MEDIA_TYPE, "application/json", "application/json+fhir"}
REVOCATION_EXT = "https://kindly.example/fhir/StructureDefinition/revocation-reason"


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
        g.practice_ids = [p.id for p in client.practices]
        return view(*args, **kwargs)

    wrapper.access = API_CLIENT
    return wrapper


@bp.before_request
def negotiate():
    """JSON only: 406 for another _format or Accept, 415 for another request body type."""
    wanted = request.args.get("_format")
    if wanted and wanted not in ("json", *JSON_TYPES):
        raise FhirError("Only JSON is supported (_format=json)", status=406, code="not-supported")
    if request.headers.get("Accept") and not any(
            media in request.accept_mimetypes for media in JSON_TYPES):
        raise FhirError(f"Only {codes.MEDIA_TYPE} is available", status=406,
                        code="not-supported")
    if request.method in ("POST", "PUT") and request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"Send {codes.MEDIA_TYPE}, not {request.mimetype or 'no Content-Type'}")


@bp.errorhandler(FhirError)
def fhir_error(exc: FhirError):
    db.session.rollback()
    status, body = from_fhir_error(exc)
    return respond(body, status, exc.headers)


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    hidden = (isinstance(exc, DuplicateOpenReferral)
              and exc.existing.practice_id not in g.get("practice_ids", ()))
    db.session.rollback()
    status, body = from_domain_error(exc, field_paths=inbound.FIELD_PATHS)
    if hidden:
        # Another practice's referral: say that it exists, not what it is (as the web form does).
        body = outcome([issue("This person already has an open referral with the connector "
                              "team. Contact the team instead of referring again.",
                              code="duplicate")])
    return respond(body, status)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return http_outcome(exc)


def http_outcome(exc: HTTPException) -> Response:
    code = {404: "not-found", 405: "not-supported", 413: "too-costly"}.get(exc.code, "exception")
    return respond(outcome([issue(exc.description or exc.name, code=code)]), exc.code or 500)


def body_json() -> dict:
    raw = request.get_data(cache=False)
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FhirError(f"The body is not valid JSON: {exc}", code="structure") from None
    except RecursionError:
        raise FhirError("The body is nested too deeply", code="structure") from None
    if not isinstance(body, dict):
        raise FhirError("The body must be a JSON object (a FHIR resource)", code="structure")
    return body


def audit_api(action: str, *, entity_type: str, entity_id=None, patient_id=None, **detail):
    audit.record(action, actor=None, actor_label=g.api_client.label, entity_type=entity_type,
                 entity_id=entity_id, patient_id=patient_id, detail=detail or None)


def scoped_referrals():
    return select(Referral).where(Referral.practice_id.in_(g.practice_ids))


def referral_options(query):
    return query.options(
        selectinload(Referral.patient).selectinload(Patient.practice),
        selectinload(Referral.reasons), selectinload(Referral.referrer),
        selectinload(Referral.connector), selectinload(Referral.team),
        selectinload(Referral.practice), selectinload(Referral.events),
    )


def load_referral(raw_id: str, prefix: str = "") -> Referral:
    """A referral the client may see, or 404 as if it did not exist."""
    ident = raw_id[len(prefix):] if prefix and raw_id.startswith(prefix) else None if prefix \
        else raw_id
    referral_id = search.parse_id(ident) if ident is not None else None
    if referral_id is None:
        raise NotFound(f"No resource with id {raw_id!r}")
    referral = db.session.scalars(
        referral_options(scoped_referrals().where(Referral.id == referral_id))).first()
    if referral is None:
        raise NotFound(f"No resource with id {raw_id!r}")
    return referral


def etag(referral: Referral) -> str:
    return f'W/"{referral.version}"'


def versioned(resource: dict, status: int = 200, **extra) -> Response:
    version = resource["meta"]["versionId"]
    headers = {"ETag": f'W/"{version}"', "Last-Modified": _http_date(resource["meta"]["lastUpdated"])}
    headers.update(extra)
    return respond(resource, status, headers)


def _http_date(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


# --- metadata ------------------------------------------------------------------


@bp.route("/metadata")
@public
def metadata():
    """The CapabilityStatement; no token needed."""
    return respond(capability_statement(base_url(), current_app.config.get("VERSION", "0.1.0"),
                                        utcnow().date().isoformat()))


# --- create ----------------------------------------------------------------------


@bp.route("", methods=["POST"])
@bp.route("/", methods=["POST"])
@api_client_required
def transaction():
    """A transaction Bundle: Patient, ServiceRequest, Consent, Practitioner(Role), Organization.

    The response has one entry per request entry, in order. The referral's Task
    is made too, as Task/t-<ServiceRequest id> (also found by Task?focus=).
    """
    body = body_json()
    intake, _ = inbound.parse_transaction(body, list(g.api_client.practices))
    referral = _create(intake)
    base = base_url()
    patient_new = referral.patient.created_at == referral.created_at
    made = {
        "ServiceRequest": (sr_map.to_fhir(referral), "201 Created"),
        "Patient": (patient_map.to_fhir(referral.patient), "201 Created" if patient_new else "200 OK"),
        "Consent": (consent_map.to_fhir(referral), "201 Created"),
    }
    practice_location = f"Organization/{org_map.practice_id(referral.practice)}"
    entries = []
    for entry in body.get("entry") or []:
        kind = (entry.get("resource") or {}).get("resourceType")
        if kind in made:
            resource, status = made[kind]
            entries.append(bundles.response_entry(base, resource, status))
        elif kind == "Organization":  # matched to the practice by ODS code, not stored anew
            entries.append({"fullUrl": f"{base}/{practice_location}",
                            "response": {"status": "200 OK", "location": practice_location}})
        else:  # Practitioner / PractitionerRole: recorded on the referral as its requester
            entries.append({"response": {"status": "200 OK", "outcome": outcome([issue(
                f"{kind} recorded on the referral as its requester", severity="information",
                code="informational")])}})
    return respond(bundles.transaction_response(entries))


@bp.route("/ServiceRequest", methods=["POST"])
@api_client_required
def create_service_request():
    """One ServiceRequest; subject by NHS number or a contained Patient; contained Consent."""
    body = body_json()
    inbound.validate(body, "ServiceRequest")
    inbound.check_service_request_codes(body)
    contained = {c.get("id"): c for c in body.get("contained") or [] if c.get("id")}
    refs = inbound.References({}, contained)
    subject = body.get("subject") or {}
    patient_resource = refs.resolve(subject, "ServiceRequest.subject")
    person = patient_resource if patient_resource is not None else _known_person(subject)
    intake = inbound.build_intake(body, person, refs, list(g.api_client.practices))
    referral = _create(intake)
    resource = sr_map.to_fhir(referral)
    location = f"{base_url()}/ServiceRequest/{referral.id}/_history/{referral.version}"
    return versioned(resource, 201, Location=location)


def _known_person(subject: dict) -> PersonDetails:
    """A logical reference to someone we already know, by NHS number or Patient/id."""
    ident = subject.get("identifier") or {}
    patient = None
    if ident:
        if ident.get("system") != codes.NHS_NUMBER or not ident.get("value"):
            raise BusinessRule("subject.identifier must be an NHS number "
                               f"({codes.NHS_NUMBER})", expression=["ServiceRequest.subject"])
        number = str(ident["value"]).replace(" ", "")
        # Only someone this client's practices have referred: a number alone must not
        # reveal (or re-home) another practice's patient.
        patient = db.session.scalars(
            _scoped_patients().where(Patient.nhs_number == number)).first()
        if patient is None:
            from referrals.nhs_number import normalise
            normalise(number)  # a bad check digit is a 422 of its own
    elif subject.get("reference"):
        pid = search.local_id(subject["reference"], "Patient")
        if pid is not None:
            patient = db.session.scalars(_scoped_patients().where(Patient.id == pid)).first()
    if patient is None:
        raise BusinessRule("Unknown patient: send their details as a contained Patient, or "
                           "POST a transaction Bundle holding the Patient",
                           expression=["ServiceRequest.subject"])
    return PersonDetails(
        nhs_number=patient.nhs_number, given_name=patient.given_name,
        family_name=patient.family_name, birth_date=patient.birth_date, sex=patient.sex,
        postcode=patient.postcode, phone=patient.phone, email=patient.email,
        preferred_contact=patient.preferred_contact,
        communication_needs=list(patient.communication_needs or []),
        interpreter_language=patient.interpreter_language,
    )


def _create(intake) -> Referral:
    intake.api_client = g.api_client
    referral = intake_service.create_referral(intake, actor=None, actor_label=g.api_client.label)
    db.session.commit()
    return db.session.scalars(referral_options(select(Referral).where(
        Referral.id == referral.id))).one()


# --- ServiceRequest --------------------------------------------------------------


@bp.route("/ServiceRequest/<sr_id>", methods=["GET"])
@api_client_required
def read_service_request(sr_id: str):
    """Read one referral as a ServiceRequest."""
    referral = load_referral(sr_id)
    audit_api("read", entity_type="referral", entity_id=referral.id,
              patient_id=referral.patient_id, via="fhir")
    resource = sr_map.to_fhir(referral)  # before the commit expires what was loaded
    db.session.commit()
    return versioned(resource)


@bp.route("/ServiceRequest/<sr_id>", methods=["PUT"])
@api_client_required
def update_service_request(sr_id: str):
    """Revoke (cancel) a referral; If-Match must carry the current version."""
    referral = load_referral(sr_id)
    expected = request.headers.get("If-Match")
    if not expected:
        raise PreconditionRequired("Send If-Match with the ServiceRequest's current ETag")
    if expected.strip() not in (etag(referral), f'"{referral.version}"', str(referral.version)):
        raise PreconditionFailed(f"Version conflict: the ServiceRequest is now at {etag(referral)}",
                                 headers={"ETag": etag(referral)})
    body = body_json()
    inbound.validate(body, "ServiceRequest")
    if body.get("id") != sr_id:
        raise FhirError("The resource id must match the id in the URL",
                        expression=["ServiceRequest.id"])
    status = body.get("status")
    if status not in codes.SERVICE_REQUEST_STATUSES:
        raise FhirError(f"ServiceRequest.status {status!r} is not a FHIR request-status code",
                        expression=["ServiceRequest.status"], code="code-invalid")
    if status != "revoked":
        raise BusinessRule("The requester can only revoke (cancel) a referral; other changes "
                           "are made by the connector team", expression=["ServiceRequest.status"])
    if changed := _changed_elements(body, sr_map.to_fhir(referral)):
        raise BusinessRule("Only status (to revoked) and note may change; send the ServiceRequest "
                           f"as read with just those changed. Changed: {', '.join(changed)}",
                           expression=changed)
    workflow.transition(referral, ReferralStatus.CANCELLED, actor=None,
                        actor_label=g.api_client.label, reason=_revocation_reason(body, referral))
    audit_api("cancel", entity_type="referral", entity_id=referral.id,
              patient_id=referral.patient_id, via="fhir")
    db.session.commit()
    referral = load_referral(sr_id)
    return versioned(sr_map.to_fhir(referral))


# A PUT may change these; everything else must come back exactly as we sent it.
REVOCABLE = frozenset({"resourceType", "id", "meta", "text", "status", "note", "extension"})


def _changed_elements(body: dict, current: dict) -> list[str]:
    """Element paths the PUT body changes, besides status, note and the revocation reason."""
    changed = [f"ServiceRequest.{name}" for name in sorted(set(body) | set(current))
               if name not in REVOCABLE and body.get(name) != current.get(name)]
    sent_ext = [e for e in body.get("extension") or [] if e.get("url") != REVOCATION_EXT]
    if sent_ext != current.get("extension", []):
        changed.append("ServiceRequest.extension")
    return changed


def _revocation_reason(body: dict, referral: Referral) -> str:
    for ext in body.get("extension") or []:
        if ext.get("url") == REVOCATION_EXT and ext.get("valueString"):
            return ext["valueString"]
    notes = [n.get("text", "") for n in body.get("note") or []]
    extra = [n for n in notes if n and n != referral.what_matters]
    return extra[-1] if extra else ""


@bp.route("/ServiceRequest", methods=["GET"])
@api_client_required
def search_service_requests():
    """Search referrals; `_include=ServiceRequest:patient` adds the patients."""
    return _search("ServiceRequest", sr_map.to_fhir,
                   include=("ServiceRequest:patient", lambda r: patient_map.to_fhir(r.patient)))


# --- Task ------------------------------------------------------------------------


@bp.route("/Task/<task_id>")
@api_client_required
def read_task(task_id: str):
    """Read a referral's workflow Task (GP systems poll this to close the loop)."""
    referral = load_referral(task_id, prefix="t-")
    audit_api("read", entity_type="referral", entity_id=referral.id,
              patient_id=referral.patient_id, via="fhir-task")
    resource = task_map.to_fhir(referral)
    db.session.commit()
    return versioned(resource)


@bp.route("/Task")
@api_client_required
def search_tasks():
    """Search Tasks; `_include=Task:focus` adds their ServiceRequests."""
    return _search("Task", task_map.to_fhir, include=("Task:focus", sr_map.to_fhir))


def _search(resource_type: str, to_fhir, *, include):
    params = request.args.to_dict(flat=False)
    count = search.count_param(request.args.get("_count"))
    after = search.after_param(request.args.get("_after"))
    includes_wanted = request.args.getlist("_include")
    for wanted in includes_wanted:
        if wanted != include[0]:
            raise FhirError(f"_include={wanted} is not supported; use {include[0]}",
                            expression=["_include"], code="not-supported")
    query, warnings = search.apply(scoped_referrals(), params, resource_type)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = query.order_by(Referral.id)
    if after is not None:
        page = page.where(Referral.id > after)
    rows = list(db.session.scalars(referral_options(page.limit(count + 1)))) if count else []
    more = len(rows) > count
    rows = rows[:count]
    base = base_url()
    self_params = [(k, v) for k, vs in params.items() for v in vs]
    next_url = None
    if more and rows:
        next_params = [(k, v) for k, v in self_params if k != "_after"] + [("_after", rows[-1].id)]
        next_url = f"{base}/{resource_type}?{urlencode(next_params)}"
    included, seen = [], set()
    if includes_wanted:
        for referral in rows:
            resource = include[1](referral)
            key = (resource["resourceType"], resource["id"])
            if key not in seen:
                seen.add(key)
                included.append(resource)
    matches = [to_fhir(r) for r in rows]  # before the commit expires the loaded rows
    audit_api("search", entity_type="referral", resource=resource_type,
              referral_ids=[r.id for r in rows], patient_ids=sorted({r.patient_id for r in rows}))
    db.session.commit()
    return respond(bundles.searchset(
        base=base,
        self_url=f"{base}/{resource_type}" + (f"?{urlencode(self_params)}" if self_params else ""),
        next_url=next_url, total=total, matches=matches,
        includes=included, warnings=warnings))


# --- Patient and Consent ------------------------------------------------------------


def _scoped_patients():
    """Patients with a referral from one of the client's practices."""
    return select(Patient).where(Patient.id.in_(
        select(Referral.patient_id).where(Referral.practice_id.in_(g.practice_ids))))


@bp.route("/Patient/<patient_id>")
@api_client_required
def read_patient(patient_id: str):
    """Read a person the client has referred."""
    pid = search.parse_id(patient_id)
    if pid is None:
        raise NotFound(f"No Patient with id {patient_id!r}")
    patient = db.session.scalars(_scoped_patients().where(Patient.id == pid).options(
        selectinload(Patient.practice))).first()
    if patient is None:
        raise NotFound(f"No Patient with id {patient_id!r}")
    audit.record("read", actor=None, actor_label=g.api_client.label, entity_type="patient",
                 entity_id=patient.id, patient_id=patient.id, detail={"via": "fhir"})
    resource = patient_map.to_fhir(patient)
    db.session.commit()
    return respond(resource)


PATIENT_SEARCH = frozenset({"identifier", "_id", "_count", "_format"})


@bp.route("/Patient")
@api_client_required
def search_patients():
    """Find a person the client has referred, by NHS number (identifier=system|value)."""
    query = _scoped_patients()
    warnings = [{"severity": "warning", "code": "not-supported", "expression": [name],
                 "diagnostics": f"Search parameter {name!r} is not supported and was ignored"}
                for name in request.args if name not in PATIENT_SEARCH]
    for raw in request.args.getlist("identifier"):
        numbers = []
        for value in raw.split(","):
            system, code = search.split_token(value)
            if system not in (None, codes.NHS_NUMBER):
                raise FhirError(f"identifier: only {codes.NHS_NUMBER} is searchable",
                                expression=["identifier"], code="not-supported")
            numbers.append(code.replace(" ", ""))
        query = query.where(Patient.nhs_number.in_(numbers))
    for raw in request.args.getlist("_id"):
        ids = [i for v in raw.split(",") if (i := search.parse_id(v)) is not None]
        query = query.where(Patient.id.in_(ids))
    count = search.count_param(request.args.get("_count"))
    patients = list(db.session.scalars(query.order_by(Patient.id).limit(count).options(
        selectinload(Patient.practice))))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    matches = [patient_map.to_fhir(p) for p in patients]
    audit_api("search", entity_type="patient", patient_ids=[p.id for p in patients])
    db.session.commit()
    base = base_url()
    query_string = request.query_string.decode()
    return respond(bundles.searchset(
        base=base, self_url=f"{base}/Patient" + (f"?{query_string}" if query_string else ""),
        next_url=None, total=total, matches=matches,
        warnings=warnings))


@bp.route("/Consent/<consent_id>")
@api_client_required
def read_consent(consent_id: str):
    """The consent recorded with a referral."""
    referral = load_referral(consent_id, prefix="c-")
    audit_api("read", entity_type="consent", entity_id=referral.id,
              patient_id=referral.patient_id, via="fhir")
    resource = consent_map.to_fhir(referral)
    db.session.commit()
    return versioned(resource)


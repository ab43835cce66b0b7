"""/fhir writes: referrals in (a transaction Bundle or one ServiceRequest) and revocation."""
from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from fhir_adapters import bundle as bundles
from fhir_adapters import codes, search
from fhir_adapters import consent as consent_map
from fhir_adapters import intake as inbound
from fhir_adapters import organization as org_map
from fhir_adapters import patient as patient_map
from fhir_adapters import servicerequest as sr_map
from fhir_adapters.errors import (
    BusinessRule,
    FhirError,
    PreconditionFailed,
    PreconditionRequired,
    issue,
    outcome,
)
from fhir_adapters.http import (
    api_client_required,
    base_url,
    body_json,
    bp,
    etag,
    load_referral,
    referral_options,
    respond,
    scoped_patients,
    versioned,
)
from referrals import access
from referrals.extensions import db
from referrals.intake import service as intake_service
from referrals.intake.service import PersonDetails
from referrals.models import Patient, Referral

REVOCATION_EXT = "https://kindly.example/fhir/StructureDefinition/revocation-reason"


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
    intake, _ = inbound.parse_transaction(body, access.referring_practices(g.api_client))
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
    intake = inbound.build_intake(body, person, refs, access.referring_practices(g.api_client))
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
            scoped_patients().where(Patient.nhs_number == number)).first()
        if patient is None:
            from referrals.nhs_number import normalise
            normalise(number)  # a bad check digit is a 422 of its own
    elif subject.get("reference"):
        pid = search.local_id(subject["reference"], "Patient")
        if pid is not None:
            patient = db.session.scalars(scoped_patients().where(Patient.id == pid)).first()
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


@bp.route("/ServiceRequest/<sr_id>", methods=["PUT"])
@api_client_required
def update_service_request(sr_id: str):
    """Revoke (cancel) a referral; If-Match must carry the current version.

    The referral's row is locked before If-Match is compared, so of two requests made
    from the same version exactly one succeeds; the other gets 412 with the new ETag.
    """
    referral = load_referral(sr_id, for_change=True)
    expected = request.headers.get("If-Match")
    if not expected:
        raise PreconditionRequired("Send If-Match with the ServiceRequest's current ETag")
    version = _if_match_version(expected)
    if version != referral.version:
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
    intake_service.cancel_referral(referral, actor=None, actor_label=g.api_client.label,
                                   reason=_revocation_reason(body, referral),
                                   expected_version=version, via="fhir")
    db.session.commit()
    referral = load_referral(sr_id)
    return versioned(sr_map.to_fhir(referral))


def _if_match_version(header: str) -> int | None:
    """The version an If-Match names: W/"3", "3" or 3; None for anything else."""
    value = header.strip().removeprefix("W/").strip('"')
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


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


"""/fhir reads and searches of referral data: ServiceRequest, Task (polled by GP systems),
Procedure (what came of each connection), Patient and Consent. The outcomes are in
api_outcomes, the directory in api_directory."""
from __future__ import annotations

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fhir_adapters import codes, search
from fhir_adapters import consent as consent_map
from fhir_adapters import patient as patient_map
from fhir_adapters import procedure as procedure_map
from fhir_adapters import servicerequest as sr_map
from fhir_adapters import task as task_map
from fhir_adapters.errors import FhirError, NotFound
from fhir_adapters.http import (
    api_client_required,
    audit_api,
    bp,
    load_referral,
    referral_options,
    respond,
    scoped_patients,
    scoped_referrals,
    versioned,
)
from fhir_adapters.searchset import includes_asked, keyset_page, searchset_response, unique
from referrals import access, audit
from referrals.extensions import db
from referrals.models import Connection, Offer, Patient, Referral


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
    includes_wanted = includes_asked(include[0])
    query, warnings = search.apply(scoped_referrals(), params, resource_type)
    total, rows, more = keyset_page(query, Referral.id, count=count, after=after,
                                    load=referral_options)
    included = unique([include[1](referral) for referral in rows]) if includes_wanted else []
    matches = [to_fhir(r) for r in rows]  # before the commit expires the loaded rows
    audit_api("search", entity_type="referral", resource=resource_type,
              referral_ids=[r.id for r in rows], patient_ids=sorted({r.patient_id for r in rows}))
    db.session.commit()
    return searchset_response(resource_type, params, total=total, matches=matches,
                              after=rows[-1].id if more and rows else None,
                              includes=included, warnings=warnings)


# --- Procedure -------------------------------------------------------------------


def scoped_procedures():
    """Ended connections of the client's practices' referrals: the Procedures it may see."""
    return access.scope(
        select(Connection).join(Referral, Connection.referral_id == Referral.id)
        .where(Connection.status.in_(sorted(procedure_map.PROCEDURE_STATUSES))),
        g.api_client)


def _with_referrals(connections: list[Connection]) -> list[tuple[Connection, Referral]]:
    ids = {c.referral_id for c in connections}
    referrals = {r.id: r for r in db.session.scalars(
        referral_options(select(Referral).where(Referral.id.in_(ids))))} if ids else {}
    return [(c, referrals[c.referral_id]) for c in connections]


PROCEDURE_LOADING = (selectinload(Connection.offer).selectinload(Offer.organisation),)


@bp.route("/Procedure/<procedure_id>")
@api_client_required
def read_procedure(procedure_id: str):
    """What came of one connection: attended (completed) or not (not-done)."""
    connection_id = search.parse_id(procedure_id)
    connection = db.session.scalars(scoped_procedures().where(
        Connection.id == connection_id).options(*PROCEDURE_LOADING)).first() \
        if connection_id is not None else None
    if connection is None:
        raise NotFound(f"No Procedure with id {procedure_id!r}")
    ((_, referral),) = _with_referrals([connection])
    audit_api("read", entity_type="connection", entity_id=connection.id,
              patient_id=referral.patient_id, via="fhir", referral_id=referral.id)
    resource = procedure_map.to_fhir(connection, referral)
    db.session.commit()
    return versioned(resource)


@bp.route("/Procedure")
@api_client_required
def search_procedures():
    """Search Procedures (based-on, patient, status); `_include=Procedure:based-on` adds
    their ServiceRequests."""
    params = request.args.to_dict(flat=False)
    count = search.count_param(request.args.get("_count"))
    after = search.after_param(request.args.get("_after"))
    includes_wanted = includes_asked("Procedure:based-on")
    query, warnings = search.apply_procedure(scoped_procedures(), params)
    total, rows, more = keyset_page(query, Connection.id, count=count, after=after,
                                    load=lambda stmt: stmt.options(*PROCEDURE_LOADING))
    pairs = _with_referrals(rows)
    matches = [procedure_map.to_fhir(c, r) for c, r in pairs]
    included = unique([sr_map.to_fhir(r) for _, r in pairs]) if includes_wanted else []
    audit_api("search", entity_type="connection", resource="Procedure",
              connection_ids=[c.id for c, _ in pairs],
              patient_ids=sorted({r.patient_id for _, r in pairs}))
    db.session.commit()
    return searchset_response("Procedure", params, total=total, matches=matches,
                              after=pairs[-1][0].id if more and pairs else None,
                              includes=included, warnings=warnings)


# --- Patient and Consent ------------------------------------------------------------


@bp.route("/Patient/<patient_id>")
@api_client_required
def read_patient(patient_id: str):
    """Read a person the client has referred."""
    pid = search.parse_id(patient_id)
    if pid is None:
        raise NotFound(f"No Patient with id {patient_id!r}")
    patient = db.session.scalars(scoped_patients().where(Patient.id == pid).options(
        selectinload(Patient.practice))).first()
    if patient is None:
        raise NotFound(f"No Patient with id {patient_id!r}")
    audit.record("read", actor=None, actor_label=g.api_client.label, entity_type="patient",
                 entity_id=patient.id, patient_id=patient.id, detail={"via": "fhir"})
    resource = patient_map.to_fhir(patient)
    db.session.commit()
    return respond(resource)


PATIENT_SEARCH = frozenset({"identifier", "_id", "_count", "_after", "_format"})


@bp.route("/Patient")
@api_client_required
def search_patients():
    """Find a person the client has referred, by NHS number (identifier=system|value)."""
    params = request.args.to_dict(flat=False)
    query = scoped_patients()
    warnings = [{"severity": "warning", "code": "not-supported", "expression": [name],
                 "diagnostics": f"Search parameter {name!r} is not supported and was ignored"}
                for name in request.args if name not in PATIENT_SEARCH]
    for raw in request.args.getlist("identifier"):
        search.refuse_nul("identifier", raw)
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
    after = search.after_param(request.args.get("_after"))
    total, patients, more = keyset_page(
        query, Patient.id, count=count, after=after,
        load=lambda stmt: stmt.options(selectinload(Patient.practice)))
    matches = [patient_map.to_fhir(p) for p in patients]
    audit_api("search", entity_type="patient", patient_ids=[p.id for p in patients])
    db.session.commit()
    return searchset_response("Patient", params, total=total, matches=matches,
                              after=patients[-1].id if more and patients else None,
                              warnings=warnings)


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

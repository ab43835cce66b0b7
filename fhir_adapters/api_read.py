"""/fhir reads and searches of referral data: ServiceRequest, Task (polled by GP systems),
Procedure (what came of each connection), Patient, Consent, and the outcomes:
QuestionnaireResponse and Observation (outcome measures), DocumentReference and Binary
(the outcome letter)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from fhir_adapters import bundle as bundles
from fhir_adapters import codes, search
from fhir_adapters import consent as consent_map
from fhir_adapters import documentreference as letter_map
from fhir_adapters import observation as observation_map
from fhir_adapters import patient as patient_map
from fhir_adapters import procedure as procedure_map
from fhir_adapters import questionnaireresponse as qr_map
from fhir_adapters import servicerequest as sr_map
from fhir_adapters import task as task_map
from fhir_adapters.errors import (
    FhirError,
    NotFound,
)
from fhir_adapters.http import (
    PDF,
    api_client_required,
    audit_api,
    base_url,
    bp,
    load_referral,
    outcome_referrals,
    referral_options,
    respond,
    scoped_patients,
    scoped_referrals,
    version_headers,
    versioned,
    wants_pdf,
)
from referrals import audit
from referrals.extensions import db
from referrals.models import Connection, Measurement, Offer, OutcomeLetter, Patient, Referral
from referrals.outcomes import instruments as outcome_instruments


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


def keyset_page(query, key, *, count: int, after, load=lambda stmt: stmt):
    """One page of a search by its key column after the cursor `after`: (total, rows,
    more). `load` adds the eager loading the page's mappers need."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = query.order_by(key)
    if after is not None:
        page = page.where(key > after)
    rows = list(db.session.scalars(load(page.limit(count + 1)))) if count else []
    return total, rows[:count], len(rows) > count


def includes_asked(allowed: str) -> list[str]:
    """The `_include` values asked for; anything but `allowed` is refused."""
    wanted = request.args.getlist("_include")
    for value in wanted:
        if value != allowed:
            raise FhirError(f"_include={value} is not supported; use {allowed}",
                            expression=["_include"], code="not-supported")
    return wanted


def unique(resources: list[dict]) -> list[dict]:
    """Included resources once each, in first-seen order."""
    found, seen = [], set()
    for resource in resources:
        key = (resource["resourceType"], resource["id"])
        if key not in seen:
            seen.add(key)
            found.append(resource)
    return found


def searchset_response(resource_type: str, params: dict[str, list[str]], *, total: int,
                       matches: list[dict], after=None, includes=(), warnings=()):
    """The searchset with its self link, and a next link from the cursor `after`."""
    base = base_url()
    self_params = [(k, v) for k, vs in params.items() for v in vs]
    next_url = None
    if after is not None:
        next_params = [(k, v) for k, v in self_params if k != "_after"] + [("_after", after)]
        next_url = f"{base}/{resource_type}?{urlencode(next_params)}"
    return respond(bundles.searchset(
        base=base,
        self_url=f"{base}/{resource_type}" + (f"?{urlencode(self_params)}" if self_params else ""),
        next_url=next_url, total=total, matches=matches,
        includes=includes, warnings=warnings))


# --- Procedure -------------------------------------------------------------------


def scoped_procedures():
    """Ended connections of the client's practices' referrals: the Procedures it may see."""
    return (select(Connection).join(Referral, Connection.referral_id == Referral.id)
            .where(Referral.practice_id.in_(g.practice_ids),
                   Connection.status.in_(sorted(procedure_map.PROCEDURE_STATUSES))))


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


PATIENT_SEARCH = frozenset({"identifier", "_id", "_count", "_format"})


@bp.route("/Patient")
@api_client_required
def search_patients():
    """Find a person the client has referred, by NHS number (identifier=system|value)."""
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


# --- Outcome measures: QuestionnaireResponse (a measurement), Observation (a score) -----


def scoped_measurements():
    """Measurements of the client's practices' referrals."""
    return (select(Measurement).join(Referral, Measurement.referral_id == Referral.id)
            .where(Referral.practice_id.in_(g.practice_ids)))


MEASUREMENT_LOADING = (selectinload(Measurement.recorded_by),)


def instrument_for(code: str):
    """The instrument's definition, or None for one this installation no longer has
    (its measurements are still served, without item wording or score labels)."""
    try:
        return outcome_instruments.get(code)
    except KeyError:
        return None


def _measurement(measurement_id: int | None, what: str) -> Measurement:
    found = db.session.scalars(scoped_measurements().where(
        Measurement.id == measurement_id).options(*MEASUREMENT_LOADING)).first() \
        if measurement_id is not None else None
    if found is None:
        raise NotFound(f"No {what}")
    return found


def _no_includes() -> None:
    if wanted := request.args.getlist("_include"):
        raise FhirError(f"_include={wanted[0]} is not supported here",
                        expression=["_include"], code="not-supported")


@bp.route("/QuestionnaireResponse/<response_id>")
@api_client_required
def read_questionnaire_response(response_id: str):
    """One completion of an outcome instrument."""
    measurement = _measurement(search.parse_id(response_id),
                               f"QuestionnaireResponse with id {response_id!r}")
    referral = outcome_referrals([measurement.referral_id])[measurement.referral_id]
    audit_api("read", entity_type="measurement", entity_id=measurement.id,
              patient_id=referral.patient_id, via="fhir", referral_id=referral.id)
    resource = qr_map.to_fhir(measurement, referral, instrument_for(measurement.instrument))
    db.session.commit()
    return versioned(resource)


@bp.route("/QuestionnaireResponse")
@api_client_required
def search_questionnaire_responses():
    """Search measurements (based-on, patient, subject, questionnaire)."""
    params = request.args.to_dict(flat=False)
    count = search.count_param(request.args.get("_count"))
    after = search.after_param(request.args.get("_after"))
    _no_includes()
    query, warnings, _ = search.apply_measurement(scoped_measurements(), params,
                                                  "QuestionnaireResponse")
    total, rows, more = keyset_page(query, Measurement.id, count=count, after=after,
                                    load=lambda stmt: stmt.options(*MEASUREMENT_LOADING))
    referrals = outcome_referrals(m.referral_id for m in rows)
    matches = [qr_map.to_fhir(m, referrals[m.referral_id], instrument_for(m.instrument))
               for m in rows]
    audit_api("search", entity_type="measurement", resource="QuestionnaireResponse",
              measurement_ids=[m.id for m in rows],
              patient_ids=sorted({referrals[m.referral_id].patient_id for m in rows}))
    db.session.commit()
    return searchset_response("QuestionnaireResponse", params, total=total, matches=matches,
                              after=rows[-1].id if more and rows else None, warnings=warnings)


@bp.route("/Observation/<observation_id>")
@api_client_required
def read_observation(observation_id: str):
    """One score of one measurement."""
    what = f"Observation with id {observation_id!r}"
    parts = observation_map.split_id(observation_id)
    measurement = _measurement(search.parse_id(parts[0]) if parts else None, what)
    score_id = observation_map.score_for(measurement, parts[1])
    if score_id is None:
        raise NotFound(f"No {what}")
    referral = outcome_referrals([measurement.referral_id])[measurement.referral_id]
    audit_api("read", entity_type="measurement", entity_id=measurement.id,
              patient_id=referral.patient_id, via="fhir-observation", score=score_id,
              referral_id=referral.id)
    resource = observation_map.to_fhir(measurement, score_id, referral,
                                       instrument_for(measurement.instrument))
    db.session.commit()
    return versioned(resource)


@bp.route("/Observation")
@api_client_required
def search_observations():
    """Search scores (based-on, patient, subject, code)."""
    params = request.args.to_dict(flat=False)
    count = search.count_param(request.args.get("_count"))
    after = request.args.get("_after")
    after_parts = observation_map.split_id(after) if after else None
    if after and (after_parts is None or search.parse_id(after_parts[0]) is None):
        raise FhirError("_after must be the cursor from a next link", expression=["_after"])
    _no_includes()
    query, warnings, tests = search.apply_measurement(scoped_measurements(), params,
                                                      "Observation")
    # A score is not a row: list every matching (measurement, score) from the small
    # columns in one query, then load only the page's measurements.
    found = [(row, score_id) for row in db.session.execute(
        query.with_only_columns(Measurement.id, Measurement.instrument, Measurement.scores)
        .order_by(Measurement.id))
        for score_id in row.scores or {} if all(test(row, score_id) for test in tests)]
    start = 0
    if after_parts is not None:
        cursor = int(after_parts[0])
        start = next((i + 1 for i, (row, s) in enumerate(found)
                      if observation_map.observation_id(row, s) == after), None) \
            or next((i for i, (row, _) in enumerate(found) if row.id > cursor), len(found))
    chosen = found[start:start + count]
    more = start + count < len(found)
    measurements = {m.id: m for m in db.session.scalars(
        select(Measurement).where(Measurement.id.in_({row.id for row, _ in chosen}))
        .options(*MEASUREMENT_LOADING))} if chosen else {}
    referrals = outcome_referrals(m.referral_id for m in measurements.values())
    pairs = [(measurements[row.id], score_id) for row, score_id in chosen]
    matches = [observation_map.to_fhir(m, s, referrals[m.referral_id],
                                       instrument_for(m.instrument)) for m, s in pairs]
    audit_api("search", entity_type="measurement", resource="Observation",
              observation_ids=[r["id"] for r in matches],
              patient_ids=sorted({referrals[m.referral_id].patient_id for m, _ in pairs}))
    db.session.commit()
    return searchset_response("Observation", params, total=len(found), matches=matches,
                              after=matches[-1]["id"] if more and matches else None,
                              warnings=warnings)


# --- The outcome letter: DocumentReference (each version) and Binary (its PDF) ---------


def scoped_letters():
    """Outcome letters of the client's practices' referrals."""
    return (select(OutcomeLetter).join(Referral, OutcomeLetter.referral_id == Referral.id)
            .where(Referral.practice_id.in_(g.practice_ids)))


LETTER_LOADING = (selectinload(OutcomeLetter.created_by),)


def _letter(raw_id: str, what: str, *options) -> OutcomeLetter:
    letter_id = search.parse_id(raw_id)
    letter = db.session.scalars(scoped_letters().where(OutcomeLetter.id == letter_id)
                                .options(*options)).first() if letter_id is not None else None
    if letter is None:
        raise NotFound(f"No {what} with id {raw_id!r}")
    return letter


@bp.route("/DocumentReference/<document_id>")
@api_client_required
def read_document_reference(document_id: str):
    """One version of a referral's outcome letter."""
    letter = _letter(document_id, "DocumentReference", *LETTER_LOADING)
    referral = outcome_referrals([letter.referral_id])[letter.referral_id]
    audit_api("read", entity_type="outcome-letter", entity_id=letter.id,
              patient_id=referral.patient_id, via="fhir", referral_id=referral.id)
    resource = letter_map.to_fhir(letter, referral)
    db.session.commit()
    return versioned(resource)


@bp.route("/DocumentReference")
@api_client_required
def search_document_references():
    """Search outcome letters (related, patient, subject, status)."""
    params = request.args.to_dict(flat=False)
    count = search.count_param(request.args.get("_count"))
    after = search.after_param(request.args.get("_after"))
    _no_includes()
    query, warnings = search.apply_document_reference(scoped_letters(), params)
    total, rows, more = keyset_page(query, OutcomeLetter.id, count=count, after=after,
                                    load=lambda stmt: stmt.options(*LETTER_LOADING))
    referrals = outcome_referrals(letter.referral_id for letter in rows)
    matches = [letter_map.to_fhir(letter, referrals[letter.referral_id]) for letter in rows]
    audit_api("search", entity_type="outcome-letter", resource="DocumentReference",
              letter_ids=[letter.id for letter in rows],
              patient_ids=sorted({referrals[letter.referral_id].patient_id for letter in rows}))
    db.session.commit()
    return searchset_response("DocumentReference", params, total=total, matches=matches,
                              after=rows[-1].id if more and rows else None, warnings=warnings)


@bp.route("/Binary/<binary_id>")
@api_client_required
def read_binary(binary_id: str):
    """The letter's PDF: the raw file for `Accept: application/pdf`, else a Binary."""
    letter = _letter(binary_id, "Binary", undefer(OutcomeLetter.pdf))
    referral = outcome_referrals([letter.referral_id])[letter.referral_id]
    raw = wants_pdf()
    audit_api("read", entity_type="outcome-letter", entity_id=letter.id,
              patient_id=referral.patient_id, via="fhir-binary", referral_id=referral.id,
              format="pdf" if raw else "json")
    pdf = letter.pdf  # read before the commit expires it
    headers = version_headers({"meta": letter_map.binary_meta(letter)})
    resource = None if raw else letter_map.binary_to_fhir(letter, pdf)
    filename = f"outcome-letter-{referral.reference}-{letter.number}.pdf"
    db.session.commit()
    if raw:
        return Response(pdf, mimetype=PDF, headers={
            **headers, "Content-Disposition": f'inline; filename="{filename}"',
            "X-Content-Type-Options": "nosniff"})
    return respond(resource, 200, headers)

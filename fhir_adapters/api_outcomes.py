"""/fhir reads and searches of a referral's outcomes: QuestionnaireResponse and
Observation (outcome measures), DocumentReference and Binary (the outcome letter)."""
from __future__ import annotations

from flask import Response, g, request
from sqlalchemy import JSON, case, cast, func, select, true
from sqlalchemy.orm import selectinload, undefer

from fhir_adapters import documentreference as letter_map
from fhir_adapters import observation as observation_map
from fhir_adapters import questionnaireresponse as qr_map
from fhir_adapters import search
from fhir_adapters.errors import FhirError, NotFound
from fhir_adapters.http import (
    PDF,
    api_client_required,
    audit_api,
    bp,
    outcome_referrals,
    respond,
    version_headers,
    versioned,
    wants_pdf,
)
from fhir_adapters.searchset import keyset_page, no_includes, searchset_response
from referrals import access
from referrals.extensions import db
from referrals.models import Measurement, OutcomeLetter, Referral
from referrals.outcomes import instruments as outcome_instruments

# --- Outcome measures: QuestionnaireResponse (a measurement), Observation (a score) -----


def scoped_measurements():
    """Measurements of the client's practices' referrals."""
    return access.scope(select(Measurement).join(Referral, Measurement.referral_id == Referral.id),
                        g.api_client)


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
    no_includes()
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
    no_includes()
    query, warnings, wanted = search.apply_measurement(scoped_measurements(), params,
                                                       "Observation")
    chosen, more = _score_page(query, wanted, count=count, after=after_parts)
    total = _score_total(query, wanted)
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
    return searchset_response("Observation", params, total=total, matches=matches,
                              after=matches[-1]["id"] if more and matches else None,
                              warnings=warnings)


SCORE_COLUMNS = (Measurement.id, Measurement.instrument, Measurement.scores)


def _score_page(query, wanted: search.ScoreFilter, *, count: int, after: tuple[str, str] | None):
    """One page of (measurement row, score id) after the cursor, in measurement id then
    score order, and whether more follow.

    A score is not a row, so the page is read in id order from the cursor's measurement
    on, a few more measurements than the page needs at a time (each has at least one
    score), and only the small columns; the page's measurements are loaded afterwards."""
    if count == 0:
        return [], False
    page = query.with_only_columns(*SCORE_COLUMNS).order_by(Measurement.id)
    after_id = int(after[0]) if after else None
    if after_id is not None:
        page = page.where(Measurement.id >= after_id)
    found: list = []
    batch = count + 2
    while True:
        rows = db.session.execute(page.limit(batch)).all()
        for row in rows:
            score_ids = list(row.scores or {})
            if row.id == after_id:  # the rest of the cursor's measurement, if any
                parts = [observation_map.score_part(row.id, s) for s in score_ids]
                score_ids = score_ids[parts.index(after[1]) + 1:] if after[1] in parts else []
            found += [(row, s) for s in score_ids if wanted.accepts(row, s)]
            if len(found) > count:
                return found[:count], True
        if len(rows) < batch:
            return found, False
        page = page.where(Measurement.id > rows[-1].id)


def _score_total(query, wanted: search.ScoreFilter) -> int:
    """How many scores match, counted by the database from the keys of each measurement's
    scores (json_each on SQLite, json_object_keys on PostgreSQL: no rows come back); with
    `_id` the measurements are named in the request, so few enough to count here."""
    if wanted.ids is not None:
        return sum(1 for row in db.session.execute(query.with_only_columns(*SCORE_COLUMNS))
                   for s in row.scores or {} if wanted.accepts(row, s))
    rows = query.with_only_columns(*SCORE_COLUMNS).subquery()
    if db.session.get_bind().dialect.name == "postgresql":
        # json_object_keys refuses anything but an object; SQLite's json_each skips it.
        scores = case((func.json_typeof(rows.c.scores) == "object", rows.c.scores),
                      else_=cast("{}", JSON))
        keys = func.json_object_keys(scores).table_valued("key").render_derived()
    else:
        keys = func.json_each(rows.c.scores).table_valued("key")
    total = select(func.count()).select_from(rows).join(keys, true())
    if wanted.codes is not None:
        total = total.where((rows.c.instrument + "-" + keys.c.key).in_(sorted(wanted.codes)))
    return db.session.scalar(total) or 0


# --- The outcome letter: DocumentReference (each version) and Binary (its PDF) ---------


def scoped_letters():
    """Outcome letters of the client's practices' referrals."""
    return access.scope(
        select(OutcomeLetter).join(Referral, OutcomeLetter.referral_id == Referral.id),
        g.api_client)


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
    no_includes()
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

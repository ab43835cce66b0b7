"""Search parameters -> SQL filters: over referrals (ServiceRequest, Task), connections
(Procedure), offers (HealthcareService), measurements (QuestionnaireResponse,
Observation) and outcome letters (DocumentReference)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from fhir_adapters import codes
from fhir_adapters import observation as observation_map
from fhir_adapters.errors import FhirError
from fhir_adapters.procedure import STATUSES as PROCEDURE_STATUSES
from referrals.directory import vocabulary
from referrals.models import (
    Connection,
    Measurement,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
    OutcomeLetter,
    Patient,
    Referral,
)

DEFAULT_COUNT, MAX_COUNT = 20, 100
# Parameters that shape the result rather than filter it.
CONTROL = {"_count", "_include", "_after", "_format", "_total", "_summary", "_sort"}


def count_param(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_COUNT
    try:
        value = int(raw)
    except ValueError:
        raise FhirError(f"_count must be a whole number, not {raw!r}", expression=["_count"]) \
            from None
    if value < 0:
        raise FhirError("_count cannot be negative", expression=["_count"])
    return min(value, MAX_COUNT)


# Our ids are 32-bit integers (PostgreSQL `integer`). A bigger number cannot be one of
# ours, and binding it would make PostgreSQL refuse the whole query.
MAX_ID = 2**31 - 1


def parse_id(text: str) -> int | None:
    """One of our integer ids from its text, or None if it cannot be one."""
    # isascii: str.isdigit() also accepts digits like "²" that int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def after_param(raw: str | None) -> int | None:
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise FhirError("_after must be the cursor from a next link", expression=["_after"])
    return value


def refuse_nul(name: str, raw: str) -> None:
    """PostgreSQL cannot compare a string holding NUL (it refuses the whole query), and
    nothing we store has one."""
    if "\x00" in raw:
        raise FhirError(f"{name}: a NUL character cannot be searched for", expression=[name])


def split_token(value: str) -> tuple[str | None, str]:
    if "|" in value:
        system, _, code = value.partition("|")
        return system or None, code
    return None, value


def local_id(value: str, resource_type: str, prefix: str = "") -> int | None:
    """'ServiceRequest/12', '12' or an absolute URL -> 12 (None if it cannot be ours)."""
    tail = value.rstrip("/").split("/")
    if len(tail) >= 2 and tail[-2] != resource_type:
        return None
    ident = tail[-1]
    if prefix:
        if not ident.startswith(prefix):
            return None
        ident = ident[len(prefix):]
    return parse_id(ident)


_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def date_filter(column, raw: str, name: str):
    """A FHIR date search (with eq/gt/ge/lt/le prefixes) as a SQL condition."""
    prefix = raw[:2] if raw[:2] in _PREFIXES else "eq"
    text = raw[2:] if raw[:2] in _PREFIXES else raw
    if prefix not in ("eq", "gt", "ge", "lt", "le"):
        raise FhirError(f"{name}: the {prefix} prefix is not supported", expression=[name],
                        code="not-supported")
    try:
        if len(text) == 10:
            start = datetime.fromisoformat(text).replace(tzinfo=UTC)
            end = start + timedelta(days=1)
        else:
            start = datetime.fromisoformat(text)
            if start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
            start = start.astimezone(UTC)
            end = start + timedelta(seconds=1)
    except ValueError:
        raise FhirError(f"{name}: {text!r} is not a FHIR date or dateTime",
                        expression=[name]) from None
    except OverflowError:  # 9999-12-31 plus a day, or 0001-01-01 east of UTC
        raise FhirError(f"{name}: {text!r} is out of range", expression=[name]) from None
    return {
        "eq": (column >= start) & (column < end),
        "gt": column >= end,
        "ge": column >= start,
        "lt": column < start,
        "le": column < end,
    }[prefix]


def statuses_for(values: list[str], position: int, known: frozenset[str], name: str):
    unknown = [v for v in values if v not in known]
    if unknown:
        raise FhirError(f"{name}: unknown code {unknown[0]!r}", expression=[name],
                        code="code-invalid")
    return [s for s, mapping in codes.STATUS_MAP.items() if mapping[position] in values]


def _reference_filter(query: Select, values: list[str], name: str) -> Select:
    """requester / owner / performer references to our users, practices and teams."""
    conditions = []
    for value in values:
        if (uid := local_id(value, "PractitionerRole", "pr-")) is not None:
            column = Referral.connector_id if name == "owner" else Referral.referrer_id
            conditions.append(column == uid)
        elif (pid := local_id(value, "Organization", "p-")) is not None and name == "requester":
            conditions.append((Referral.practice_id == pid) & Referral.referrer_id.is_(None))
        elif (tid := local_id(value, "Organization", "team-")) is not None and name != "requester":
            condition = Referral.team_id == tid
            if name == "owner":
                condition = condition & Referral.connector_id.is_(None)
            conditions.append(condition)
    if not conditions:
        return query.where(false())
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return query.where(combined)


def _patient_filter(query: Select, values: list[str]) -> Select:
    ids = [local_id(v, "Patient") for v in values]
    return query.where(Referral.patient_id.in_([i for i in ids if i is not None]))


def _nhs_filter(query: Select, values: list[str], name: str) -> Select:
    numbers = []
    for value in values:
        system, code = split_token(value)
        if system not in (None, codes.NHS_NUMBER):
            raise FhirError(f"{name}: only {codes.NHS_NUMBER} identifiers are searchable",
                            expression=[name], code="not-supported")
        numbers.append(code.replace(" ", ""))
    return query.join(Referral.patient).where(Patient.nhs_number.in_(numbers))


def apply(query: Select, params: dict[str, list[str]], resource_type: str) -> tuple[Select, list]:
    """Narrow `query` by the search `params`; returns it and warnings for ignored params."""
    warnings = []
    for name, raw_values in params.items():
        if name in CONTROL:
            continue
        # Repeated parameters AND together; commas inside one OR together.
        for raw in raw_values:
            refuse_nul(name, raw)
            values = [v for v in raw.split(",") if v != ""]
            if not values:
                continue
            query = _apply_one(query, name, values, raw, resource_type, warnings)
    return query, warnings


def _apply_one(query, name, values, raw, resource_type, warnings):
    sr = resource_type == "ServiceRequest"
    if name == "_id":
        prefix = "" if sr else "t-"
        ids = [local_id(v, resource_type, prefix) for v in values]
        return query.where(Referral.id.in_([i for i in ids if i is not None]))
    if name == "identifier":
        refs = []
        for value in values:
            system, code = split_token(value)
            if system in (None, codes.REFERRAL_ID):
                refs.append(code)
        return query.where(Referral.reference.in_(refs))
    if name in ("patient", "subject") or (name == "for" and not sr):
        return _patient_filter(query, values)
    if name in ("patient:identifier", "subject:identifier"):
        return _nhs_filter(query, values, name)
    if name == "_lastUpdated":
        return query.where(date_filter(Referral.updated_at, raw, name))
    if sr and name == "authored":
        return query.where(date_filter(Referral.created_at, raw, name))
    if not sr and name == "authored-on":
        return query.where(date_filter(Referral.created_at, raw, name))
    if name == "status":
        known = codes.SERVICE_REQUEST_STATUSES if sr else codes.TASK_STATUSES
        return query.where(Referral.status.in_(statuses_for(values, 3 if sr else 0, known, name)))
    if not sr and name == "business-status":
        codes_only = [split_token(v)[1] for v in values]
        statuses = statuses_for(codes_only, 1, codes.BUSINESS_STATUSES, name)
        return query.where(Referral.status.in_(statuses))
    if sr and name == "intent":
        return query if "order" in values else query.where(false())
    if name == "requester" or (sr and name == "performer") or (not sr and name == "owner"):
        return _reference_filter(query, values, name)
    if not sr and name == "focus":
        ids = [local_id(v, "ServiceRequest") for v in values]
        return query.where(Referral.id.in_([i for i in ids if i is not None]))
    warnings.append({"severity": "warning", "code": "not-supported",
                     "diagnostics": f"Search parameter {name!r} is not supported and was ignored",
                     "expression": [name]})
    return query




# --- Procedure (connections) and HealthcareService (offers) ------------------------------

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
KINDS = frozenset(kind.value for kind in OfferKind)
EVENT_STATUSES = frozenset({"preparation", "in-progress", "not-done", "on-hold", "stopped",
                            "completed", "entered-in-error", "unknown"})


def is_fhir_id(text: str) -> bool:
    return FHIR_ID.fullmatch(text) is not None


def ignored(name: str) -> dict:
    return {"severity": "warning", "code": "not-supported", "expression": [name],
            "diagnostics": f"Search parameter {name!r} is not supported and was ignored"}


def _values(params: dict[str, list[str]]):
    """(name, values, raw) per filtering parameter; repeats AND, commas OR."""
    for name, raw_values in params.items():
        if name in CONTROL:
            continue
        for raw in raw_values:
            refuse_nul(name, raw)
            if values := [v for v in raw.split(",") if v != ""]:
                yield name, values, raw


def apply_procedure(query: Select, params: dict[str, list[str]]) -> tuple[Select, list]:
    """Narrow a query of connections joined to their referrals by Procedure parameters."""
    warnings = []
    for name, values, raw in _values(params):
        if name == "_id":
            ids = [local_id(v, "Procedure") for v in values]
            query = query.where(Connection.id.in_([i for i in ids if i is not None]))
        elif name == "based-on":
            ids = [local_id(v, "ServiceRequest") for v in values]
            query = query.where(Connection.referral_id.in_([i for i in ids if i is not None]))
        elif name in ("patient", "subject"):
            ids = [local_id(v, "Patient") for v in values]
            query = query.where(Referral.patient_id.in_([i for i in ids if i is not None]))
        elif name == "status":
            if unknown := [v for v in values if v not in EVENT_STATUSES]:
                raise FhirError(f"status: unknown code {unknown[0]!r}", expression=[name],
                                code="code-invalid")
            wanted = {s for v in values for s in PROCEDURE_STATUSES.get(v, ())}
            query = query.where(Connection.status.in_(sorted(wanted)))
        elif name == "_lastUpdated":
            query = query.where(date_filter(Connection.updated_at, raw, name))
        else:
            warnings.append(ignored(name))
    return query, warnings


def _starts(column, value: str, contains: bool = False):
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%" if contains else f"{escaped}%"
    return func.lower(column).like(pattern, escape="\\")


def apply_healthcare_service(query: Select, params: dict[str, list[str]],
                             category_system: str, kind_system: str) -> tuple[Select, list]:
    """Narrow a query of offers by HealthcareService parameters."""
    warnings = []
    for name, values, raw in _values(params):
        if name == "_id":
            query = query.where(Offer.id.in_([v for v in values if is_fhir_id(v)]))
        elif name in ("name", "name:contains"):
            query = query.where(or_(*[_starts(Offer.name, v, name == "name:contains")
                                      for v in values]))
        elif name == "name:exact":
            query = query.where(Offer.name.in_(values))
        elif name == "active":
            if any(v not in ("true", "false") for v in values):
                raise FhirError("active must be true or false", expression=[name])
            wanted = set(values)
            if wanted == {"true"}:
                query = query.where(Offer.status == OfferStatus.ACTIVE)
            elif wanted == {"false"}:
                query = query.where(Offer.status != OfferStatus.ACTIVE)
        elif name == "service-category":
            terms = [vocabulary.term_id(code) for system, code in map(split_token, values)
                     if system in (None, category_system)]
            query = query.where(Offer.id.in_(select(OfferAttribute.offer_id).where(
                OfferAttribute.taxonomy_term_id.in_(terms))))
        elif name == "service-type":
            kinds = [OfferKind(code) for system, code in map(split_token, values)
                     if system in (None, kind_system) and code in KINDS]
            query = query.where(Offer.kind.in_(kinds))
        elif name == "_lastUpdated":
            query = query.where(date_filter(Offer.updated_at, raw, name))
        else:
            warnings.append(ignored(name))
    return query, warnings


# --- Outcome measures (QuestionnaireResponse, Observation) and letters (DocumentReference)

QUESTIONNAIRE_PREFIX = f"{codes.KINDLY}/Questionnaire/"
DOCUMENT_STATUSES = frozenset({"current", "superseded", "entered-in-error"})


def _local_ids(values: list[str], resource_type: str) -> list[int]:
    return [i for v in values if (i := local_id(v, resource_type)) is not None]


def _questionnaire(value: str):
    """A canonical (…/Questionnaire/<code>[|version]), Questionnaire/<code> or <code> as a
    condition on measurements."""
    url, _, version = value.partition("|")
    tail = url.rstrip("/").split("/")
    if len(tail) >= 2 and tail[-2] != "Questionnaire":
        return false()
    condition = Measurement.instrument == tail[-1]
    return condition & (Measurement.instrument_version == version) if version else condition


@dataclass(frozen=True)
class ScoreFilter:
    """What each score must be, beyond its measurement: a score is not a row, so Observation
    `_id` and `code` are checked on each (measurement, score id). Repeats AND together."""

    ids: frozenset[str] | None = None  # Observation ids
    codes: frozenset[str] | None = None  # outcome-score codes, <instrument>-<score id>

    def accepts(self, measurement, score_id: str) -> bool:
        return ((self.ids is None or observation_map.observation_id(measurement, score_id)
                 in self.ids)
                and (self.codes is None or observation_map.score_code(measurement, score_id)
                     in self.codes))

    def also(self, *, ids=None, codes=None) -> ScoreFilter:
        return ScoreFilter(ids=_both(self.ids, ids), codes=_both(self.codes, codes))


def _both(before: frozenset[str] | None, more) -> frozenset[str] | None:
    if more is None:
        return before
    return frozenset(more) if before is None else before & frozenset(more)


def _instruments_of(score_codes) -> set[str]:
    """Instrument codes a score code can belong to: <instrument>-<score id>, either of
    which may hold a dash, so every split."""
    return {code[:i] for code in score_codes for i, char in enumerate(code) if char == "-"}


def apply_measurement(query: Select, params: dict[str, list[str]], resource_type: str
                      ) -> tuple[Select, list, ScoreFilter]:
    """Narrow a query of measurements joined to their referrals.

    Returns the query, warnings, and for Observation what each score must also be (see
    ScoreFilter); the query already keeps only measurements that could have such a score."""
    warnings, scores = [], ScoreFilter()
    observation = resource_type == "Observation"
    for name, values, _raw in _values(params):
        if name == "_id" and observation:
            wanted = {tail[-1] for v in values if (tail := v.rstrip("/").split("/"))
                      and (len(tail) < 2 or tail[-2] == "Observation") and is_fhir_id(tail[-1])}
            ids = [int(m) for v in wanted if (split := observation_map.split_id(v))
                   and (m := parse_id(split[0])) is not None]
            query = query.where(Measurement.id.in_(ids))
            scores = scores.also(ids=wanted)
        elif name == "_id":
            query = query.where(Measurement.id.in_(_local_ids(values, resource_type)))
        elif name == "based-on":
            query = query.where(Measurement.referral_id.in_(_local_ids(values, "ServiceRequest")))
        elif name in ("patient", "subject"):
            query = query.where(Referral.patient_id.in_(_local_ids(values, "Patient")))
        elif name == "questionnaire" and not observation:
            query = query.where(or_(*[_questionnaire(v) for v in values]))
        elif name == "code" and observation:
            wanted = {code for system, code in map(split_token, values)
                      if system in (None, observation_map.OUTCOME_SCORE)}
            query = query.where(Measurement.instrument.in_(sorted(_instruments_of(wanted))))
            scores = scores.also(codes=wanted)
        else:
            warnings.append(ignored(name))
    return query, warnings, scores


def apply_document_reference(query: Select, params: dict[str, list[str]]
                             ) -> tuple[Select, list]:
    """Narrow a query of outcome letters joined to their referrals."""
    warnings = []
    for name, values, _raw in _values(params):
        if name == "_id":
            query = query.where(OutcomeLetter.id.in_(_local_ids(values, "DocumentReference")))
        elif name == "related":
            query = query.where(OutcomeLetter.referral_id.in_(
                _local_ids(values, "ServiceRequest")))
        elif name in ("patient", "subject"):
            query = query.where(Referral.patient_id.in_(_local_ids(values, "Patient")))
        elif name == "status":
            if unknown := [v for v in values if v not in DOCUMENT_STATUSES]:
                raise FhirError(f"status: unknown code {unknown[0]!r}", expression=[name],
                                code="code-invalid")
            later = aliased(OutcomeLetter)
            superseded = exists(select(later.id).where(
                later.referral_id == OutcomeLetter.referral_id,
                later.number > OutcomeLetter.number))
            conditions = [~superseded] if "current" in values else []
            conditions += [superseded] if "superseded" in values else []
            query = query.where(or_(*conditions) if conditions else false())
        else:
            warnings.append(ignored(name))
    return query, warnings

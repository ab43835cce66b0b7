"""Writing one planned referral (journeys.Plan) as the rows the services would have left:
the referral and its reasons, each status move as an event and a version, the contacts,
follow-ups, connections with their own events, measures, unmet needs and the audit
trail of every change."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from referrals import workdays
from referrals.generate import measures
from referrals.generate.journeys import Plan
from referrals.generate.places import Area, PracticeInfo
from referrals.generate.writer import Ids, Writer
from referrals.models import ConnectionStatus, FollowUpStatus, ReferralStatus

S = ReferralStatus
ROUTING = "Kindly routing"
PUBLIC = "public directory"
WHAT_MATTERS = [
    "Getting out of the house more since my husband died.",
    "Meeting people who like gardening.",
    "Feeling useful again; used to be a bus driver.",
    "Help with money worries so I can sleep.",
    "Some time for myself while caring for Mum.",
    "Walking with others to get fitter after my heart operation.",
    "Finding a singing group like the one I used to go to.",
    "Someone to talk to once a week.",
]
RISKS = ["Lives alone", "Uses a walking frame", "Dog in the house: ask before visiting",
         "Hard of hearing: speak clearly", "Recent fall"]
NOTES = ["Talked about what matters to them.", "Went through the options together.",
         "Went to the group once; wants to go again.", "Feeling brighter this week.",
         "Sorting out a bus pass to get to the library group."]
PURPOSES = ["Check how the first visit went", "Review goals together",
            "Help with the bus pass application", "See how things are going"]
SLOTS = ["MO-morning", "TU-morning", "TU-afternoon", "WE-morning", "TH-afternoon",
         "FR-morning", "SA-morning", "WE-evening"]


@dataclass
class Context:
    ids: Ids
    out: Writer
    area: Area
    offers: dict[str, list[str]]  # active offer ids by category
    audit: bool


# The audit action of the service that makes each move (the move to in progress is
# part of recording the first contact, audited as that).
AUDIT_ACTIONS = {S.ACCEPTED: "accept", S.REJECTED: "reject", S.CANCELLED: "cancel",
                 S.COMPLETED: "close-completed", S.DECLINED: "close-declined",
                 S.UNABLE_TO_CONTACT: "close-unable_to_contact"}


@dataclass(frozen=True)
class Entry:
    """One version of the referral: its event, and the change that made the version."""

    at: datetime
    actor_id: int | None
    label: str
    before: ReferralStatus | None
    after: ReferralStatus
    reason: str
    kind: str
    summary: str


def write_referral(ctx: Context, rng: random.Random, plan: Plan, *, patient_id: int,
                   postcode: str, practice: PracticeInfo) -> None:
    referral_id = ctx.ids("referral")
    reference = f"KND-{plan.created.year}-{referral_id:06d}"
    referrer_id = rng.choice(practice.referrer_ids) if plan.source == "form" else None
    accepts = any(step.to is S.ACCEPTED for step in plan.steps)
    connector_id = None if plan.queued and not accepts else rng.choice(ctx.area.connector_ids)
    # Whoever else acts for the hub: the coordinator rejects what waited in the queue.
    worker = connector_id or rng.choice(ctx.area.coordinator_ids)
    history = _history(ctx.area, plan, referrer_id, connector_id, worker)
    ctx.out.add("referral", _referral_row(
        ctx.area, rng, plan, referral_id, reference, patient_id=patient_id,
        practice_id=practice.id, referrer_id=referrer_id, connector_id=connector_id,
        version=len(history),
        updated_at=max([e.at for e in history] + [c.at for c in plan.contacts])))
    for code, detail in plan.reasons:
        ctx.out.add("referral_reason", {"id": ctx.ids("referral_reason"),
                                        "referral_id": referral_id, "code": code,
                                        "detail": detail})
    _write_history(ctx, history, referral_id, patient_id,
                   {"source": plan.source, "reference": reference})
    _write_casework(ctx, rng, plan, referral_id, patient_id, worker, postcode)


def _practice_label(area: Area, source: str) -> str:
    """Who acted for the practice when no Kindly user did."""
    return {"fhir": area.api_client_label, "self": PUBLIC}.get(source, "")


def _history(area: Area, plan: Plan, referrer_id: int | None, connector_id: int | None,
             worker: int) -> list[Entry]:
    """Arrival, routing (or a connector taking it from the queue), then each move."""
    label = _practice_label(area, plan.source)
    history = [Entry(plan.created, referrer_id, label, None, S.RECEIVED, "Referral received",
                     "status", "Referral received")]
    if connector_id is not None:
        name = area.names[connector_id]
        if plan.queued:
            history.append(Entry(plan.steps[0].at, connector_id, "", S.RECEIVED, S.RECEIVED,
                                 f"Assigned to {name}: taken from the team queue",
                                 "assignment", f"Assigned to {name}"))
        else:
            history.append(Entry(plan.created, None, ROUTING, S.RECEIVED, S.RECEIVED,
                                 f"Assigned to {name}: most spare capacity in the team",
                                 "assignment", f"Assigned to {name}"))
    actors = {"connector": (worker, ""), "referrer": (referrer_id, label)}
    status = S.RECEIVED
    for step in plan.steps:
        actor_id, actor_label = actors[step.by]
        history.append(Entry(step.at, actor_id, actor_label, status, step.to, step.reason,
                             "status",
                             f"Status: {status.label.lower()} → {step.to.label.lower()}"))
        status = step.to
    return history


def _referral_row(area: Area, rng: random.Random, plan: Plan, referral_id: int,
                  reference: str, *, patient_id: int, practice_id: int,
                  referrer_id: int | None, connector_id: int | None, version: int,
                  updated_at: datetime) -> dict:
    engaged = plan.first_contact_at is not None
    risks = rng.sample(RISKS, rng.randint(1, 2)) if rng.random() < 0.4 else []
    fhir, self_referral = plan.source == "fhir", plan.source == "self"
    return {
        "id": referral_id, "reference": reference, "patient_id": patient_id,
        "practice_id": practice_id, "referrer_id": referrer_id, "team_id": area.team_id,
        "connector_id": connector_id, "what_matters": rng.choice(WHAT_MATTERS),
        # A self-referral says nothing about risks until a connector records them.
        "risks": risks, "no_known_risks": not risks and not self_referral,
        "urgency": plan.urgency,
        "consent_given_by": "person" if rng.random() < 0.95 else "representative",
        "consent_method": "written" if self_referral else
        rng.choice(["verbal-in-person", "verbal-phone"]),
        "consent_at": plan.created, "status": plan.status.value, "source": plan.source,
        "referrer_name": "Self-referral" if self_referral else
        f"Dr {rng.choice('ABCDEFGH')} Practitioner" if fhir else "",
        "referrer_identifier": f"C{rng.randrange(10**6, 10**7)}" if fhir else "",
        "api_client_id": area.api_client_id if fhir else None,
        "first_contact_due": workdays.add_working_days(workdays.uk_date(plan.created),
                                                       area.first_contact_days),
        "first_contact_at": plan.first_contact_at,
        "availability": sorted(rng.sample(SLOTS, rng.randint(2, 4))) if engaged else [],
        "prefers_free": engaged and rng.random() < 0.4, "max_distance_km": None,
        "access_needs": ["step-free"] if engaged and rng.random() < 0.15 else [],
        "language": "", "gp_actions": "", "coded_only": rng.random() < 0.03,
        "version": version, "created_at": plan.created, "updated_at": updated_at}


def _write_history(ctx: Context, history: list[Entry], referral_id: int, patient_id: int,
                   created: dict) -> None:
    for version, e in enumerate(history, start=1):
        ctx.out.add("referral_event", {
            "id": ctx.ids("referral_event"), "referral_id": referral_id, "at": e.at,
            "actor_id": e.actor_id, "actor_label": e.label,
            "from_status": e.before.value if e.before else None, "to_status": e.after.value,
            "reason": e.reason, "kind": e.kind})
        ctx.out.add("referral_change", {
            "id": ctx.ids("referral_change"), "referral_id": referral_id, "version": version,
            "at": e.at, "actor_id": e.actor_id,
            "actor_label": e.label or (ctx.area.names[e.actor_id] if e.actor_id else ""),
            "summary": e.summary})
        if e.kind != "status":
            continue
        action = "create" if e.before is None else AUDIT_ACTIONS.get(e.after)
        if action:
            _audit(ctx, e.at, e.actor_id, e.label, action, referral_id, patient_id,
                   created if e.before is None else {}, always=True)


def _write_casework(ctx: Context, rng: random.Random, plan: Plan, referral_id: int,
                    patient_id: int, worker: int, postcode: str) -> None:
    for contact in plan.contacts:
        contact_id = ctx.ids("contact")
        ctx.out.add("contact", {
            "id": contact_id, "referral_id": referral_id, "at": contact.at,
            "method": contact.method.value, "outcome": contact.outcome.value,
            "duration_minutes": contact.minutes,
            "notes": rng.choice(NOTES) if contact.minutes else "",
            "recorded_by_id": worker, "recorded_at": contact.at})
        _audit(ctx, contact.at, worker, "", "record-contact", referral_id, patient_id,
               {"contact_id": contact_id, "outcome": contact.outcome.value})
    _follow_ups(ctx, rng, plan, referral_id, patient_id, worker)
    _connections(ctx, rng, plan, referral_id, patient_id, worker)
    for m in plan.measures:
        version, scores = measures.scores(m.instrument, m.answers)
        measurement_id = ctx.ids("measurement")
        ctx.out.add("measurement", {
            "id": measurement_id, "referral_id": referral_id, "instrument": m.instrument,
            "instrument_version": version, "timepoint": m.timepoint.value, "mode": m.mode,
            "completed_on": workdays.uk_date(m.at), "answers": m.answers, "scores": scores,
            "recorded_by_id": worker, "recorded_at": m.at})
        _audit(ctx, m.at, worker, "", "record-measurement", referral_id, patient_id,
               {"measurement_id": measurement_id, "instrument": m.instrument,
                "timepoint": m.timepoint.value})
    for need in plan.unmet:
        ctx.out.add("unmet_need", {
            "id": ctx.ids("unmet_need"), "referral_id": referral_id,
            "category": need.category, "reason": need.reason.value,
            "postcode_district": postcode.split()[0], "recorded_by_id": worker,
            "recorded_at": need.at, "met_at": need.met_at})


def _follow_ups(ctx: Context, rng: random.Random, plan: Plan, referral_id: int,
                patient_id: int, worker: int) -> None:
    written: list[int] = []
    for f in plan.follow_ups:
        follow_up_id = ctx.ids("follow_up")
        written.append(follow_up_id)
        ctx.out.add("follow_up", {
            "id": follow_up_id, "referral_id": referral_id, "due_on": f.due_on,
            "method": f.method.value, "purpose": rng.choice(PURPOSES),
            "status": f.status.value,
            "replaces_id": written[f.replaces] if f.replaces is not None else None,
            "created_by_id": worker, "created_at": f.created_at, "closed_at": f.closed_at,
            "outcome_note": ""})
        _audit(ctx, f.created_at, worker, "", "schedule-follow-up", referral_id, patient_id,
               {"follow_up_id": follow_up_id})
        if f.status is not FollowUpStatus.SCHEDULED:
            _audit(ctx, f.closed_at, worker, "", f"follow-up-{f.status.value}", referral_id,
                   patient_id, {"follow_up_id": follow_up_id})


def _connections(ctx: Context, rng: random.Random, plan: Plan, referral_id: int,
                 patient_id: int, worker: int) -> None:
    for c in plan.connections:
        offers = ctx.offers.get(c.category) or ctx.offers[min(ctx.offers)]
        connection_id = ctx.ids("connection")
        first_at, last_at, last_status = c.moves[0][0], c.moves[-1][0], c.moves[-1][1]
        attended = next((at for at, status in c.moves if status is ConnectionStatus.ATTENDED),
                        None)
        ctx.out.add("connection", {
            "id": connection_id, "referral_id": referral_id, "offer_id": rng.choice(offers),
            "kind": c.kind, "status": last_status.value, "match_score": c.score,
            "match_explanation": "", "started_on": _day(attended), "notes": "",
            "created_by_id": worker, "created_at": first_at, "updated_at": last_at,
            "version": len(c.moves)})
        before = None
        for at, status in c.moves:
            ctx.out.add("connection_event", {
                "id": ctx.ids("connection_event"), "connection_id": connection_id, "at": at,
                "on": _day(at), "actor_id": worker,
                "from_status": before.value if before else None, "to_status": status.value,
                "note": ""})
            _audit(ctx, at, worker, "",
                   "record-connection" if before is None else "update-connection",
                   referral_id, patient_id,
                   {"connection_id": connection_id, "status": status.value})
            before = status


def _audit(ctx: Context, at: datetime, actor_id: int | None, label: str, action: str,
           referral_id: int, patient_id: int, detail: dict, *, always: bool = False) -> None:
    """The audit event the service would have written (every change, when ctx.audit;
    only the referral's creation and status changes otherwise)."""
    if not (ctx.audit or always):
        return
    ctx.out.add("audit_event", {
        "id": ctx.ids("audit_event"), "at": at, "actor_id": actor_id,
        "actor_label": label or (ctx.area.emails[actor_id] if actor_id else ""),
        "action": action, "entity_type": "referral", "entity_id": referral_id,
        "patient_id": patient_id, "detail": detail, "ip": "", "origin": None})


def _day(moment: datetime | None) -> date | None:
    return workdays.uk_date(moment) if moment is not None else None

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


def write_referral(ctx: Context, rng: random.Random, plan: Plan, *, patient_id: int,
                   postcode: str, practice: PracticeInfo) -> None:
    area, out, ids = ctx.area, ctx.out, ctx.ids
    referral_id = ids("referral")
    reference = f"KND-{plan.created.year}-{referral_id:06d}"
    referrer_id = rng.choice(practice.referrer_ids) if plan.source == "form" else None
    practice_label = (area.api_client_label if plan.source == "fhir" else
                      PUBLIC if plan.source == "self" else "")
    accepts = any(step.to is S.ACCEPTED for step in plan.steps)
    connector_id = (None if plan.queued and not accepts else rng.choice(area.connector_ids))
    coordinator_id = rng.choice(area.coordinator_ids)
    # Who stands behind each kind of actor in the plan.
    actors = {"connector": (connector_id or coordinator_id, ""),
              "referrer": (referrer_id, practice_label)}

    history: list[tuple[datetime, int | None, str, S | None, S, str, str, str]] = [
        (plan.created, referrer_id, practice_label, None, S.RECEIVED, "Referral received",
         "status", "Referral received")]
    if connector_id is not None:
        name = area.names[connector_id]
        if plan.queued:  # taken from the team queue by the connector who accepted it
            history.append((plan.steps[0].at, connector_id, "", S.RECEIVED, S.RECEIVED,
                            f"Assigned to {name}: taken from the team queue", "assignment",
                            f"Assigned to {name}"))
        else:
            history.append((plan.created, None, ROUTING, S.RECEIVED, S.RECEIVED,
                            f"Assigned to {name}: most spare capacity in the team",
                            "assignment", f"Assigned to {name}"))
    status = S.RECEIVED
    for step in plan.steps:
        actor_id, label = actors[step.by]
        history.append((step.at, actor_id, label, status, step.to, step.reason, "status",
                        f"Status: {status.label.lower()} → {step.to.label.lower()}"))
        status = step.to

    moments = [h[0] for h in history] + [c.at for c in plan.contacts]
    engaged = plan.first_contact_at is not None
    risks = rng.sample(RISKS, rng.randint(1, 2)) if rng.random() < 0.4 else []
    out.add("referral", {
        "id": referral_id, "reference": reference, "patient_id": patient_id,
        "practice_id": practice.id, "referrer_id": referrer_id, "team_id": area.team_id,
        "connector_id": connector_id, "what_matters": rng.choice(WHAT_MATTERS),
        "risks": risks, "no_known_risks": not risks and plan.source != "self",
        "urgency": plan.urgency, "consent_given_by": "person" if rng.random() < 0.95
        else "representative",
        "consent_method": "written" if plan.source == "self" else
        rng.choice(["verbal-in-person", "verbal-phone"]),
        "consent_at": plan.created, "status": status.value, "source": plan.source,
        "referrer_name": "Self-referral" if plan.source == "self" else
        (f"Dr {rng.choice(['A', 'B', 'C', 'D'])}. Practitioner" if plan.source == "fhir"
         else ""),
        "referrer_identifier": f"C{rng.randrange(10**6, 10**7)}" if plan.source == "fhir"
        else "",
        "api_client_id": area.api_client_id if plan.source == "fhir" else None,
        "first_contact_due": workdays.add_working_days(workdays.uk_date(plan.created),
                                                       area.first_contact_days),
        "first_contact_at": plan.first_contact_at,
        "availability": sorted(rng.sample(SLOTS, rng.randint(2, 4))) if engaged else [],
        "prefers_free": engaged and rng.random() < 0.4, "max_distance_km": None,
        "access_needs": ["step-free"] if engaged and rng.random() < 0.15 else [],
        "language": "", "gp_actions": "", "coded_only": rng.random() < 0.03,
        "version": len(history), "created_at": plan.created, "updated_at": max(moments)})
    for code, detail in plan.reasons:
        out.add("referral_reason", {"id": ids("referral_reason"), "referral_id": referral_id,
                                    "code": code, "detail": detail})
    for version, (at, actor_id, label, before, after, reason, kind, summary) in enumerate(
            history, start=1):
        out.add("referral_event", {
            "id": ids("referral_event"), "referral_id": referral_id, "at": at,
            "actor_id": actor_id, "actor_label": label,
            "from_status": before.value if before else None, "to_status": after.value,
            "reason": reason, "kind": kind})
        out.add("referral_change", {
            "id": ids("referral_change"), "referral_id": referral_id, "version": version,
            "at": at, "actor_id": actor_id,
            "actor_label": label or (area.names[actor_id] if actor_id else ""),
            "summary": summary})
        if kind == "status":
            action = ("create" if before is None else "accept" if after is S.ACCEPTED
                      else "reject" if after is S.REJECTED else "cancel"
                      if after is S.CANCELLED else None if after is S.IN_PROGRESS
                      else f"close-{after.value}")
            if action:
                _audit(ctx, at, actor_id, label, action, referral_id, patient_id,
                       {"source": plan.source, "reference": reference}
                       if action == "create" else {}, always=True)

    worker = connector_id or coordinator_id
    for contact in plan.contacts:
        contact_id = ids("contact")
        out.add("contact", {
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
        measurement_id = ids("measurement")
        out.add("measurement", {
            "id": measurement_id, "referral_id": referral_id, "instrument": m.instrument,
            "instrument_version": version, "timepoint": m.timepoint.value, "mode": m.mode,
            "completed_on": workdays.uk_date(m.at), "answers": m.answers, "scores": scores,
            "recorded_by_id": worker, "recorded_at": m.at})
        _audit(ctx, m.at, worker, "", "record-measurement", referral_id, patient_id,
               {"measurement_id": measurement_id, "instrument": m.instrument,
                "timepoint": m.timepoint.value})
    for need in plan.unmet:
        out.add("unmet_need", {
            "id": ids("unmet_need"), "referral_id": referral_id, "category": need.category,
            "reason": need.reason.value, "postcode_district": postcode.split()[0],
            "recorded_by_id": worker, "recorded_at": need.at, "met_at": need.met_at})


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

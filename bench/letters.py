"""Outcome letter benchmarks, against a floor measured in the same process and run.

1. One letter: `reports.letters.outcome_letter_pdf` for a completed referral with a
   demo-sized story (6 contacts, ONS4 and UCLA-3 at baseline and follow-up, 3
   connections, a plan for the GP), read fresh from the database each time (the session
   is expired first, as a new request would find it), rendered and printed; against a
   bare WeasyPrint render of `<p>Hello</p>` with the same FontConfiguration. Goal
   (issue 6): at most 3x. Its three steps (build, HTML, PDF) are timed as well, and the
   PDF step against the letter's own words as bare paragraphs (no styles, no layout to
   speak of): how much of the time is the text itself.
2. A batch: `BATCH` letters for as many distinct referrals, one after another in this one
   process, as `flask letters` does in each worker: letters per second.

The referrals are made through the real services (create_referral, accept_referral,
record_contact, record_measurement, record_connection, update_connection,
close_referral), with LETTERS_ON_CLOSE off while building so closing writes no letter.
"""
from __future__ import annotations

import html as html_escape
import re
import time
import uuid
from datetime import datetime, timedelta

import weasyprint
from flask import Flask

from bench.timing import Progress, Timings, counting_statements, ratio, timed_pair
from bench.world import intake_request, nhs_numbers
from referrals import workdays
from referrals.auth.service import create_user
from referrals.caseload import service as casework
from referrals.extensions import db
from referrals.intake.service import create_referral
from referrals.matching import service as matching
from referrals.models import (
    CompletionMode,
    ConnectionKind,
    ConnectionStatus,
    ContactChannel,
    ContactOutcome,
    Offer,
    OfferStatus,
    Practice,
    Referral,
    Role,
    Team,
    Timepoint,
    utcnow,
)
from referrals.outcomes.service import record_measurement
from reports.letters import (
    build_outcome_letter,
    outcome_letter_pdf,
    print_letter,
    render_outcome_letter,
)
from reports.pdf import FONT_CONFIG, page_count

BATCH = 50
GOAL_RATIO = 3.0
MINIMAL = "<p>Hello</p>"
PASSWORD = "bench-password-123"
GP_ACTIONS = ("Please review her pain relief: she says it stops her walking far. "
              "Consider a hearing test.")
C = ConnectionStatus
CONTACTS = [(1, ContactChannel.PHONE, ContactOutcome.NO_ANSWER),
            (2, ContactChannel.PHONE, ContactOutcome.SPOKE),
            (9, ContactChannel.FACE_TO_FACE, ContactOutcome.SPOKE),
            (20, ContactChannel.PHONE, ContactOutcome.SPOKE),
            (34, ContactChannel.FACE_TO_FACE, ContactOutcome.SPOKE),
            (44, ContactChannel.PHONE, ContactOutcome.SPOKE)]
MEASURES = [(2, Timepoint.BASELINE, {"ons4": (3, 5, 4, 7), "ucla3": (3, 3, 2)}),
            (44, Timepoint.FOLLOW_UP, {"ons4": (6, 7, 6, 4), "ucla3": (2, 1, 1)})]
ITEMS = {"ons4": ("life_satisfaction", "worthwhile", "happy", "anxious"),
         "ucla3": ("lack_companionship", "left_out", "isolated")}
CONNECTIONS = [("Kindlebury Walking Group", ConnectionKind.REFERRAL, [C.ACCEPTED, C.ATTENDED],
                "Would like someone to go with her the first time."),
               ("Tuesday Lunch Club", ConnectionKind.SIGNPOST, [C.ACCEPTED, C.DID_NOT_ATTEND], ""),
               ("Community Garden", ConnectionKind.SIGNPOST, [C.NO_CAPACITY], "")]


def build_referrals(app: Flask, *, count: int) -> list[int]:
    """`count` completed referrals, each with the demo-sized story; their ids."""
    numbers = nhs_numbers(start=700_000)  # clear of the other parts' people
    progress = Progress("building referrals for the letters", count)
    on_close = app.config.get("LETTERS_ON_CLOSE")
    app.config["LETTERS_ON_CLOSE"] = False
    try:
        with app.app_context():
            now = utcnow()
            team = Team(name="Bench Letters Hub")
            practice = Practice(ods_code="L30001", name="Riverside Surgery",
                                address="12 Mill Lane\nKindlebury", postcode="KB1 1AB",
                                team=team)
            db.session.add_all([team, practice])
            db.session.flush()
            referrer = create_user(email="gp@letters.example", name="Dr Sam Reid",
                                   role=Role.REFERRER, password=PASSWORD, practice=practice)
            connector = create_user(email="priya@letters.example", name="Priya Shah",
                                    role=Role.CONNECTOR, password=PASSWORD, team=team,
                                    phone="01632 960900")
            offers = [Offer(id=str(uuid.uuid4()), name=name, status=OfferStatus.ACTIVE)
                      for name, *_ in CONNECTIONS]
            db.session.add_all(offers)
            db.session.commit()
            ids = []
            for i in range(count):
                start = now - timedelta(days=60, minutes=i)
                referral = create_referral(intake_request(next(numbers), practice, i),
                                           actor=referrer, now=start)
                _story(referral, connector, offers, start)
                ids.append(referral.id)
                progress.update(i + 1)
            db.session.commit()
            progress.done()
            return ids
    finally:
        app.config["LETTERS_ON_CLOSE"] = on_close


def _story(referral: Referral, connector, offers: list[Offer], start: datetime) -> None:
    def at(days: int) -> datetime:
        return start + timedelta(days=days)

    casework.accept_referral(referral, actor=connector, now=at(0))
    for day, method, outcome in CONTACTS:
        casework.record_contact(referral, actor=connector, at=at(day), method=method,
                                outcome=outcome, notes="Working note", now=at(day))
    for day, timepoint, answers in MEASURES:
        for code, values in answers.items():
            record_measurement(referral, code, timepoint=timepoint,
                               mode=CompletionMode.ASSISTED,
                               completed_on=workdays.uk_date(at(day)),
                               answers=dict(zip(ITEMS[code], values, strict=True)),
                               actor=connector, now=at(day))
    for k, ((_, kind, moves, note), offer) in enumerate(zip(CONNECTIONS, offers, strict=True)):
        on = at(10 + k)
        connection = matching.record_connection(
            referral, offer, kind=kind, on=on.date(), notes=note, actor=connector,
            today=on.date(), now=on)
        for step, move in enumerate(moves, start=1):
            when = at(10 + k + 7 * step)
            matching.update_connection(connection, status=move, on=when.date(),
                                       actor=connector, today=when.date(), now=when)
    casework.close_referral(referral, "completed", actor=connector,
                            note="Goes to the walking group every week and feels much better.",
                            gp_actions=GP_ACTIONS, now=at(50))


def bench(app: Flask, *, runs: int, batch: int = BATCH) -> dict:
    """One letter against the minimal render; its steps; letters per second for a batch."""
    ids = build_referrals(app, count=max(1, batch))
    with app.app_context():
        now = utcnow()

        def fresh(referral_id: int) -> Referral:
            db.session.expire_all()  # read again from the database, as a new request would
            return db.session.get(Referral, referral_id)

        def letter() -> bytes:
            return outcome_letter_pdf(fresh(ids[0]), now=now)

        def floor() -> bytes:
            return weasyprint.HTML(string=MINIMAL).write_pdf(font_config=FONT_CONFIG)

        pdf = letter()
        subject_t, floor_t = (Timings.of(t) for t in timed_pair(
            letter, floor, runs=runs, warmup=min(10, runs), label="outcome letter"))
        with counting_statements(db.engine) as statements:
            build_outcome_letter(fresh(ids[0]), now=now)
        steps = _steps(ids[0], fresh, now=now, runs=max(5, min(runs, 50)))
        words = _words_only(render_outcome_letter(build_outcome_letter(fresh(ids[0]),
                                                                       now=now)))
        pdf_t, words_t = (Timings.of(t) for t in timed_pair(
            lambda: print_letter(render_outcome_letter(build_outcome_letter(
                fresh(ids[0]), now=now))),
            lambda: weasyprint.HTML(string=words).write_pdf(font_config=FONT_CONFIG),
            runs=max(5, min(runs, 50)), warmup=3, label="letter against its words only"))
        result = {
            "letter": subject_t.as_dict(), "floor": floor_t.as_dict(),
            "floor_document": MINIMAL,
            "ratio_median": ratio(subject_t.median_ms, floor_t.median_ms),
            "ratio_p95": ratio(subject_t.p95_ms, floor_t.p95_ms),
            "goal_ratio": GOAL_RATIO,
            "goal_met": subject_t.median_ms <= GOAL_RATIO * floor_t.median_ms,
            "pages": page_count(pdf), "bytes": len(pdf),
            "sql_statements_to_build": statements[0],
            "steps": steps,
            "words_only": {"letter": pdf_t.as_dict(), "floor": words_t.as_dict(),
                           "ratio_median": ratio(pdf_t.median_ms, words_t.median_ms)},
            "batch": _batch(ids, fresh, now=now),
            "weasyprint": weasyprint.__version__,
        }
        db.session.rollback()
    return result


def _words_only(letter_html: str) -> str:
    """The letter's text as plain paragraphs, one per line of the source."""
    body = re.search(r"<body>(.*)</body>", letter_html, re.DOTALL)[1]
    lines = [line.strip() for line in re.sub(r"<[^>]+>", "\n", body).splitlines()]
    return "".join(f"<p>{html_escape.escape(html_escape.unescape(line))}</p>"
                   for line in lines if line)


def _steps(referral_id: int, fresh, *, now: datetime, runs: int) -> dict:
    """Build (from a fresh session), HTML and PDF timed apart; CPU time of the PDF too."""
    data = build_outcome_letter(fresh(referral_id), now=now)
    html = render_outcome_letter(data)
    out = {}
    for name, call in (("build", lambda: build_outcome_letter(fresh(referral_id), now=now)),
                       ("html", lambda: render_outcome_letter(data)),
                       ("pdf", lambda: print_letter(html))):
        wall, cpu = [], []
        for _ in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        out[name] = {**Timings.of(wall).as_dict(), "cpu_median_ms": Timings.of(cpu).median_ms}
    return out


def _batch(ids: list[int], fresh, *, now: datetime) -> dict:
    """Every referral's letter in turn, in this process."""
    progress = Progress("letters, one process", len(ids))
    seconds = []
    started, started_cpu = time.perf_counter(), time.process_time()
    for n, referral_id in enumerate(ids, start=1):
        start = time.perf_counter()
        outcome_letter_pdf(fresh(referral_id), now=now)
        seconds.append(time.perf_counter() - start)
        progress.update(n)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    progress.done()
    return {"letters": len(ids), "processes": 1, "seconds": round(elapsed, 3),
            "letters_per_s": round(len(ids) / elapsed, 2),
            "cpu_ms_per_letter": round(cpu * 1000 / len(ids), 1),
            "per_letter": Timings.of(seconds).as_dict()}


def rows(result: dict | None) -> list[tuple]:
    """Rows for bench.timing.table: measure, runs, median ms, p95 ms, floor, floor median
    ms, ratio median, ratio p95, goal."""
    if result is None:
        return []
    letter, floor = result["letter"], result["floor"]
    goal = f"<= {result['goal_ratio']:.0f}x: {'met' if result['goal_met'] else 'MISSED'}"
    batch, words = result["batch"], result["words_only"]
    rows_ = [((f"outcome letter: build + HTML + PDF ({result['pages']} page, "
              f"{result['bytes'] // 1024} KB, {result['sql_statements_to_build']} SQL)"),
              letter["runs"], f"{letter['median_ms']:.1f}", f"{letter['p95_ms']:.1f}",
              "WeasyPrint <p>Hello</p>, same FontConfiguration", f"{floor['median_ms']:.1f}",
              f"{result['ratio_median']:.1f}x", f"{result['ratio_p95']:.1f}x", goal)]
    for name, label in (("build", "build_outcome_letter (fresh session)"),
                        ("html", "render_outcome_letter (Jinja)"),
                        ("pdf", "print_letter (WeasyPrint)")):
        step = result["steps"][name]
        rows_.append((f"  step: {label}, CPU {step['cpu_median_ms']:.1f} ms", step["runs"],
                      f"{step['median_ms']:.1f}", f"{step['p95_ms']:.1f}", "-", "-", "-",
                      "-", "reported"))
    rows_.append(("  the same letter", words["letter"]["runs"],
                  f"{words['letter']['median_ms']:.1f}", f"{words['letter']['p95_ms']:.1f}",
                  "its words only, as bare <p>s", f"{words['floor']['median_ms']:.1f}",
                  f"{words['ratio_median']:.1f}x", "-", "reported"))
    rows_.append(((f"letters, one process: {batch['letters_per_s']:.1f} letters/s "
                  f"({batch['cpu_ms_per_letter']:.0f} ms CPU each)"), batch["letters"],
                  f"{batch['per_letter']['median_ms']:.1f}",
                  f"{batch['per_letter']['p95_ms']:.1f}", "-", "-", "-", "-", "reported"))
    return rows_


"""The simulated people of the load benchmark, each on its own thread, over real HTTP.

Staff sign in through the real login form (its CSRF token read from the page) and work as
their role does: GP referrers send referrals through the referral form, connectors open
their caseload and a workspace and record contacts (and accept what is routed to them),
practice managers list their practice's referrals, the coordinator watches the hub, and a
GP system POSTs FHIR transaction Bundles with its bearer token and polls the Task. Now and
then a person signs out and in again. Every request is timed under its route's name.
"""
from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from bench.world import referral_bundle
from referrals.nhs_number import check_digit

LONDON = ZoneInfo("Europe/London")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_WORKSPACE = re.compile(r'href="/caseload/referrals/(\d+)"')
_ACCEPT = re.compile(r'action="/caseload/referrals/(\d+)/accept"')
_REFERRAL = re.compile(r'href="/referrals/(\d+)"')
_ERROR_SUMMARY = re.compile(r'nhsuk-error-summary__list.*?<a [^>]*>(.*?)</a>', re.DOTALL)
_SERVICE_REQUEST = re.compile(r'"location":\s*"ServiceRequest/([^/"]+)')
# The demo's staff (seed-demo); every account's password is the demo password.
ACCOUNTS = {
    "referrer": ["gp@kindly.example", "gp2@kindly.example", "gp3@kindly.example"],
    "connector": ["connector@kindly.example", "connector2@kindly.example",
                  "connector3@kindly.example"],
    "manager": ["manager@kindly.example", "manager2@kindly.example",
                "manager3@kindly.example"],
    "coordinator": ["coordinator@kindly.example"],
}
# Who the N clients are, in turn: mostly GPs referring and connectors at work, as the
# issue's load is (logins, referral creation, contacts).
ROLE_CYCLE = ["referrer", "connector", "referrer", "connector", "manager", "api",
              "referrer", "connector", "manager", "coordinator"]
API_PRACTICE = ("KND001", "Market Street Surgery")  # the demo API client's practice
POSTCODES = ["KB1 1AB", "KB2 3BD", "KB3 5EF", "KB1 2AA", "KB1 2BW"]  # in the demo's table
REASONS = ["social-isolation", "loneliness", "bereavement", "low-mood", "carer-support",
           "physical-activity", "money-debt"]
SIGN_IN_AGAIN = 0.04  # share of a person's actions that are signing out and in again


@dataclass
class Sample:
    route: str
    seconds: float
    status: int | None  # None: no answer (timeout, connection refused or reset)
    error: str | None


class RequestFailed(Exception):
    """A request answered something the person cannot go on from; already recorded."""


class Recorder:
    """Every request's sample, from every thread."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self._lock = threading.Lock()

        self.writes: dict[str, int] = {"referrals": 0, "contacts": 0}

    def add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    def wrote(self, kind: str) -> None:
        """A write the server said it made: the database must hold it afterwards."""
        with self._lock:
            self.writes[kind] += 1


class NhsNumbers:
    """Valid, never-issued NHS numbers (999 range, Modulus 11), unique across threads and
    clear of the numbers already in the database."""

    def __init__(self, in_use: set[str], *, seed: int) -> None:
        self._in_use = set(in_use)
        self._lock = threading.Lock()
        self._next = random.Random(seed).randrange(100_000, 400_000)

    def take(self) -> str:
        with self._lock:
            while True:
                self._next += 1
                first_nine = f"999{self._next:06d}"
                digit = check_digit(first_nine)
                number = first_nine + str(digit) if digit is not None else None
                if number and number not in self._in_use:
                    self._in_use.add(number)
                    return number


class Browser:
    """One person's browser: its cookies, no redirects followed (each request is timed on
    its own), a new connection per request."""

    def __init__(self, base_url: str, recorder: Recorder, *, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.recorder, self.timeout = recorder, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, route: str, *, form=None, body: bytes = b"",
                headers: dict | None = None, expect: tuple[int, ...] = (200,)
                ) -> tuple[int, dict[str, str], str]:
        headers = dict(headers or {})
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers["Connection"] = "close"
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            kind = "timeout" if isinstance(exc, TimeoutError) else "no answer"
            self.recorder.add(Sample(route, time.perf_counter() - started, None,
                                     f"{kind}: {type(exc).__name__}"))
            raise RequestFailed(route) from exc
        finally:
            connection.close()
        elapsed = time.perf_counter() - started
        for raw in response.headers.get_all("Set-Cookie") or []:
            self._remember(raw)
        status = response.status
        error = None if status in expect else f"status {status}{_why(text)}"
        self.recorder.add(Sample(route, elapsed, status, error))
        if error:
            raise RequestFailed(f"{route}: {error}")
        return status, {k.lower(): v for k, v in response.getheaders()}, text

    def _remember(self, raw: str) -> None:
        cookie = SimpleCookie()
        cookie.load(raw)
        for name, morsel in cookie.items():
            expires = morsel["expires"]
            if morsel.value == "" or morsel["max-age"] == "0" or "1970" in expires:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def _why(page: str) -> str:
    """The first message of a page's error summary, so a report says what went wrong."""
    match = _ERROR_SUMMARY.search(page)
    return f" ({re.sub(r'<[^>]+>', '', match.group(1)).strip()[:120]})" if match else ""


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    if match is None:
        raise RequestFailed("no CSRF token on the page")
    return match.group(1) or match.group(2)


def _location_path(headers: dict[str, str]) -> str:
    return urlsplit(headers.get("location", "")).path


@dataclass
class Context:
    """What every simulated person shares."""

    base_url: str
    recorder: Recorder
    numbers: NhsNumbers
    api_token: str
    password: str
    deadline: float
    think_s: float
    timeout: float
    rounds: int | None = None  # one person's rounds of work, if not until the deadline

    def running(self) -> bool:
        return time.monotonic() < self.deadline and self.rounds != 0

    def next_round(self) -> bool:
        """Whether to work another round (counting it, when rounds are counted)."""
        if not self.running():
            return False
        if self.rounds is not None:
            self.rounds -= 1
        return True

    def pause(self, rng: random.Random) -> None:
        if self.think_s:
            time.sleep(min(rng.uniform(0, 2 * self.think_s),
                           max(0.0, self.deadline - time.monotonic())))


# --- signing in --------------------------------------------------------------------------


def sign_in(browser: Browser, email: str, password: str) -> None:
    _, _, html = browser.request("GET", "/login", "GET /login")
    _, headers, _ = browser.request(
        "POST", "/login", "POST /login", expect=(302,),
        form={"csrf_token": csrf_token(html), "email": email, "password": password})
    if _location_path(headers) in ("", "/login"):
        raise RequestFailed(f"signing in as {email} did not succeed")


def sign_out(browser: Browser, html: str) -> None:
    """Sign out with the token of a page already shown, as the header's button does."""
    browser.request("POST", "/logout", "POST /logout", expect=(302,),
                    form={"csrf_token": csrf_token(html)})


# --- the people --------------------------------------------------------------------------


def referrer(browser: Browser, ctx: Context, rng: random.Random, email: str) -> None:
    """A GP between patients: mostly a new referral, sometimes the practice's list."""
    sign_in(browser, email, ctx.password)
    while ctx.next_round():
        if rng.random() < 0.75:
            html = _new_referral(browser, ctx, rng)
        else:
            _, _, html = browser.request("GET", "/referrals", "GET /referrals")
        _maybe_sign_in_again(browser, ctx, rng, email, html)
        ctx.pause(rng)


def _new_referral(browser: Browser, ctx: Context, rng: random.Random) -> str:
    _, _, html = browser.request("GET", "/referrals/new", "GET /referrals/new")
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 26_000))
    form = [
        ("csrf_token", csrf_token(html)), ("nhs_number", ctx.numbers.take()),
        ("given_name", rng.choice(["Ada", "Brian", "Chioma", "Dafydd", "Elif", "Farah"])),
        ("family_name", rng.choice(["Lovelace", "Okafor", "Jones", "Nowak", "Singh"])),
        # The NHS.UK date input's three boxes, as a browser sends them.
        ("birth_date-day", str(born.day)), ("birth_date-month", str(born.month)),
        ("birth_date-year", str(born.year)), ("sex", rng.choice(["female", "male"])),
        ("postcode", rng.choice(POSTCODES)), ("phone", "07700 900123"),
        ("preferred_contact", "phone"),
        *[("reasons", code) for code in rng.sample(REASONS, rng.randint(1, 3))],
        ("what_matters", "Getting out of the house again and meeting people."),
        ("no_known_risks", "y"), ("urgency", rng.choice(["routine"] * 6 + ["urgent"])),
        ("consent", "y"), ("consent_given_by", "person"),
        ("consent_method", "verbal-in-person"),
    ]
    _, headers, _ = browser.request("POST", "/referrals/new", "POST /referrals/new",
                                    form=form, expect=(302,))
    path = _location_path(headers)
    # The confirmation ("what happens next"), then the referral itself.
    if not re.fullmatch(r"/referrals/\d+/sent", path):
        raise RequestFailed(f"the referral form sent us to {path!r}")
    browser.recorder.wrote("referrals")
    browser.request("GET", path, "GET /referrals/<id>/sent")
    _, _, html = browser.request("GET", path.removesuffix("/sent"), "GET /referrals/<id>")
    return html


def connector(browser: Browser, ctx: Context, rng: random.Random, email: str) -> None:
    """A link worker: the caseload, one person's workspace, a contact recorded; now and then
    the triage queue, accepting a referral routed to them."""
    sign_in(browser, email, ctx.password)
    while ctx.next_round():
        if rng.random() < 0.2:
            _, _, html = browser.request("GET", "/caseload/queue", "GET /caseload/queue")
            if (routed := _ACCEPT.findall(html)) and rng.random() < 0.5:
                # A colleague signed in as the same connector may take it first: the
                # app then says so with a redirect, which is not an error.
                browser.request("POST", f"/caseload/referrals/{rng.choice(routed)}/accept",
                                "POST /caseload/referrals/<id>/accept", expect=(302,),
                                form={"csrf_token": csrf_token(html)})
        _, _, html = browser.request("GET", "/caseload", "GET /caseload")
        people = _WORKSPACE.findall(html)
        if people:
            html = _record_contact(browser, rng, rng.choice(people))
        _maybe_sign_in_again(browser, ctx, rng, email, html)
        ctx.pause(rng)


def _record_contact(browser: Browser, rng: random.Random, referral_id: str) -> str:
    path = f"/caseload/referrals/{referral_id}"
    _, _, html = browser.request("GET", path, "GET /caseload/referrals/<id>")
    if rng.random() < 0.3 or 'action="/caseload/referrals/' + referral_id + '/contacts"' \
            not in html:
        return html  # read only this time (or they may no longer record on it)
    at = datetime.now(LONDON).replace(second=0, microsecond=0)
    reached = rng.random() < 0.7
    form = {"csrf_token": csrf_token(html), "contact_date": at.strftime("%d/%m/%Y"),
            "contact_time": at.strftime("%H:%M"),
            "method": rng.choice(["phone", "phone", "face-to-face", "video"]),
            "outcome": "spoke" if reached else rng.choice(["no-answer", "left-message"]),
            "duration": str(rng.choice([10, 20, 30, 45])) if reached else "",
            "notes": "Talked about what matters to them." if reached else ""}
    _, headers, _ = browser.request("POST", f"{path}/contacts",
                                    "POST /caseload/referrals/<id>/contacts", form=form,
                                    expect=(302,))
    if headers.get("location", "").endswith("#contacts"):  # not "that cannot be done now"
        browser.recorder.wrote("contacts")
    _, _, html = browser.request("GET", path, "GET /caseload/referrals/<id>")
    return html


def manager(browser: Browser, ctx: Context, rng: random.Random, email: str) -> None:
    """Practice staff keeping an eye on their referrals: the list, a filter, one referral."""
    sign_in(browser, email, ctx.password)
    while ctx.next_round():
        status = rng.choice(["", "received", "accepted", "in_progress"])
        path = "/referrals" + (f"?status={status}" if status else "")
        _, _, html = browser.request("GET", path, "GET /referrals")
        if found := _REFERRAL.findall(html):
            _, _, html = browser.request("GET", f"/referrals/{rng.choice(found)}",
                                         "GET /referrals/<id>")
        _maybe_sign_in_again(browser, ctx, rng, email, html)
        ctx.pause(rng)


def coordinator(browser: Browser, ctx: Context, rng: random.Random, email: str) -> None:
    """The hub lead: the team's workload and the triage queue."""
    sign_in(browser, email, ctx.password)
    while ctx.next_round():
        _, _, html = browser.request("GET", "/hub", "GET /hub")
        if rng.random() < 0.5:
            _, _, html = browser.request("GET", "/caseload/queue", "GET /caseload/queue")
        _maybe_sign_in_again(browser, ctx, rng, email, html)
        ctx.pause(rng)


def api_client(browser: Browser, ctx: Context, rng: random.Random, _email: str) -> None:
    """A GP system: a referral as a transaction Bundle, then polling its Task."""
    auth = {"Authorization": f"Bearer {ctx.api_token}", "Accept": "application/fhir+json"}
    i = rng.randrange(1_000_000)
    while ctx.next_round():
        i += 1
        bundle = referral_bundle(ctx.numbers.take(), *API_PRACTICE, i)
        _, _, body = browser.request(
            "POST", "/fhir", "POST /fhir (transaction Bundle)", expect=(200,),
            body=json.dumps(bundle).encode(),
            headers={**auth, "Content-Type": "application/fhir+json"})
        browser.recorder.wrote("referrals")
        if match := _SERVICE_REQUEST.search(body):
            browser.request("GET", f"/fhir/Task?focus=ServiceRequest/{match.group(1)}",
                            "GET /fhir/Task?focus=", headers=auth)
        ctx.pause(rng)


def _maybe_sign_in_again(browser: Browser, ctx: Context, rng: random.Random, email: str,
                         html: str) -> None:
    if ctx.running() and rng.random() < SIGN_IN_AGAIN:
        sign_out(browser, html)
        sign_in(browser, email, ctx.password)


PEOPLE: dict[str, Callable[[Browser, Context, random.Random, str], None]] = {
    "referrer": referrer, "connector": connector, "manager": manager,
    "coordinator": coordinator, "api": api_client,
}


def roles(clients: int) -> Iterator[tuple[str, str]]:
    """(role, account email) for each of `clients` people: the demo accounts first, then
    accounts of their own made beside them (extra_accounts), so nobody shares one."""
    used: dict[str, int] = {}
    for i in range(clients):
        role = ROLE_CYCLE[i % len(ROLE_CYCLE)]
        n = used.get(role, 0)
        used[role] = n + 1
        if role not in ACCOUNTS:
            yield role, ""  # a GP system: its bearer token, no account
        else:
            yield role, ACCOUNTS[role][n] if n < len(ACCOUNTS[role]) else _extra(role, n)


def _extra(role: str, n: int) -> str:
    return f"load-{role}-{n}@kindly.example"


def extra_accounts(clients: int) -> list[tuple[str, str]]:
    """(new email, the demo account it copies) for every person beyond the demo's own
    accounts, up to `clients` people: same role, practice or team."""
    found = []
    for role, email in roles(clients):
        if email.startswith("load-"):
            n = int(email.split("-")[-1].split("@")[0])
            found.append((email, ACCOUNTS[role][n % len(ACCOUNTS[role])]))
    return found


def warm_up(ctx: Context) -> None:
    """One round of each kind of person, untimed: the server compiles its templates and
    fills its caches once, as a server that has been up a while has."""

    def once(role: str, email: str) -> None:
        mine = replace(ctx, recorder=Recorder(), think_s=0.0, rounds=1)
        try:
            PEOPLE[role](Browser(ctx.base_url, mine.recorder, timeout=ctx.timeout), mine,
                         random.Random(0), email)
        except RequestFailed:
            pass

    threads = [threading.Thread(target=once, args=person, daemon=True)
               for person in dict(roles(len(ROLE_CYCLE))).items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def work(role: str, email: str, ctx: Context, seed: int) -> None:
    """One person until the deadline. A request that fails is recorded; the person then
    starts afresh (signed out, as after an error page) rather than giving up."""
    rng = random.Random(seed)
    while ctx.running():
        browser = Browser(ctx.base_url, ctx.recorder, timeout=ctx.timeout)
        try:
            PEOPLE[role](browser, ctx, rng, email)
        except RequestFailed:
            time.sleep(0.2)

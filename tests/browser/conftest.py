"""Browser fixtures: the demo served by a real HTTP server, driven by Debian's Chromium.

These tests do not use the root conftest's `app` or rolled-back `db`: the server runs
in its own thread with its own connections, so it gets its own app on a throwaway
SQLite file, built by the migrations and seeded with the demo town, exactly as
`make run` would. They run once, on SQLite only.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pytest
from werkzeug.serving import make_server

import referrals
from referrals import demo
from referrals.extensions import db
from reports import readiness

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling home, and the closed network refuses it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "kindly-demo"
PROJECT_ROOT = Path(referrals.__file__).resolve().parent.parent
AXE_JS = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path("/tmp/kindly-shots")  # screenshots for a person to look at

# Playwright waits this long (ms) for an element or a page; a local server answers in
# milliseconds, so a failure shows up quickly instead of hanging the suite.
TIMEOUT_MS = 5_000


# Reports every Content-Security-Policy violation on the page back to the test.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__kindlyCspViolation(`CSP violation on ${e.documentURI}: ${e.effectiveDirective} `
    + `refused ${e.blockedURI || 'inline'} (${e.sourceFile || ''}:${e.lineNumber || ''})`)
})
"""


@dataclass
class LiveServer:
    url: str
    app: object

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The demo town on a migrated SQLite file, served on 127.0.0.1 on a free port."""
    path = tmp_path_factory.mktemp("browser") / "kindly-browser.db"
    app = referrals.create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        flask_migrate.upgrade()
        demo.build(password=DEMO_PASSWORD)
        db.session.commit()
        db.session.remove()

    # The PDF check (/healthz, the admin's pages) imports WeasyPrint on first use, which
    # takes seconds on a busy machine: not inside a page load with a 5 s timeout.
    readiness.pdf_unavailable()
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kindly-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does this)"
        if os.environ.get("KINDLY_REQUIRE_BROWSER"):
            pytest.fail(f"KINDLY_REQUIRE_BROWSER is set but {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_problems() -> list[str]:
    """What went wrong in the browser during a test; the `page` fixture fails on any."""
    return []


@pytest.fixture
def page(browser, live_server, browser_problems):
    """A fresh browser context (no cookies) per test.

    Only the live server is reachable: anything else (the NHS.UK stylesheet asks
    assets.nhs.uk for the Frutiger web font) is refused at once, so the tests never
    depend on the internet and behave the same offline and in CI; the font falls back
    to Arial as the stylesheet intends. A broken script or a missing static file on
    our own server fails the test that met it.
    """
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    ours = live_server.url + "/"
    context.route(
        lambda url: not url.startswith(ours),
        lambda route: route.abort("blockedbyclient"),
    )
    problems = browser_problems
    # The pages run under Kindly's own Content-Security-Policy (no bypass): anything it
    # refuses on our pages (an inline script or style, a stray source) fails the test.
    context.expose_binding("__kindlyCspViolation", lambda source, text: problems.append(text))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    # ERR_ABORTED is the browser dropping a load because the test moved on, not a fault.
    page.on("requestfailed", lambda request: (
        request.url.startswith(ours) and "ERR_ABORTED" not in (request.failure or "")
        and problems.append(f"request failed: {request.method} {request.url} ({request.failure})")))
    page.on("response", lambda response: (
        response.status >= 400 and response.request.resource_type != "document"
        and problems.append(f"HTTP {response.status}: {response.url}")))
    try:
        yield page
    finally:
        context.close()
    assert not problems, "the browser met problems on our own pages:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def _session_cookies() -> dict[str, list]:
    return {}


@pytest.fixture
def sign_in(page, _session_cookies):
    """Sign in as a demo account, through the sign-in form by its visible labels.

    The first sign-in for an account goes through the form; later tests reuse its
    session cookie, which keeps the suite quick. The test then goes where it wants.
    """

    def sign_in(email: str, password: str = DEMO_PASSWORD):
        if email in _session_cookies:
            page.context.add_cookies(_session_cookies[email])
            return page
        page.goto("/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"could not sign in as {email}: {page.content()[:2000]}"
        _session_cookies[email] = page.context.cookies()
        return page

    return sign_in


@pytest.fixture
def axe(page):
    """Run axe-core on the current page and return its violations."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make assets` (npm ci installs axe-core)")

    def run() -> list[dict]:
        # Evaluated through the DevTools protocol, which the page's CSP does not govern; a
        # <script> tag (add_script_tag) would be refused by script-src 'self'.
        page.evaluate(AXE_JS.read_text())
        result = page.evaluate("async () => await axe.run()")
        return result["violations"]

    return run


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


# --- issue 14 (perf): the live server sends whole bodies ----------------------------------
def _buffered(app):
    """The app with each response read whole and closed before it is sent. Werkzeug's
    server can skip closing a response (a static file) when the browser drops the
    connection mid-send, as it does with the favicon when a fast page is left at once;
    the file left open is a ResourceWarning, which fails the test."""

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


# --- issue 15: one measure of "scrolls sideways at 375 px" for the journeys -----------
NOT_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def sideways_at_375(page) -> int:
    """Narrow the window to 375 px and say how far the page then scrolls sideways. The
    header's menu lays itself out again after the resize (nhsuk-frontend's script, on
    the resize event), so on a busy machine give it up to 2 s before measuring."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.set_viewport_size({"width": 375, "height": 800})
    try:
        page.wait_for_function(NOT_SIDEWAYS, timeout=2000)
    except PlaywrightTimeout:
        pass  # still too wide: the caller's assertion says by how much
    return page.evaluate("document.documentElement.scrollWidth "
                         "- document.documentElement.clientWidth")


def assert_axe_and_375(page, axe) -> None:
    """axe-core finds nothing on the page, and at 375 px it does not scroll sideways."""
    violations = axe()
    assert not violations, f"axe-core on {page.url}: " + "; ".join(
        f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations)
    try:
        wide = sideways_at_375(page)
        assert wide <= 0, f"{page.url} scrolls sideways by {wide}px at 375 px"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def check(page, axe):
    """The journeys' check of each page they reach (assert_axe_and_375)."""
    return lambda: assert_axe_and_375(page, axe)

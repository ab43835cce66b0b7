"""Screenshots of the pages issue 14 made fit a phone, at 375 px and 1280 px wide.

    .venv/bin/python -m tests.browser.screenshots [OUTPUT_DIR]

Builds the demo town on a throwaway SQLite file (as the browser tests do), serves it,
signs in as each demo role in Debian's Chromium and writes docs/screenshots/<page>-375.png
(the whole page, cut at MAX_HEIGHT so each file stays small) and <page>-1280.png (the
first screen). The referral pages show the first active referral on Jo Bennett's caseload.
"""
from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import flask_migrate
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

import referrals
from referrals import demo
from referrals.extensions import db
from referrals.models import Referral, ReferralStatus, User
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, PROJECT_ROOT

OUTPUT = PROJECT_ROOT / "docs" / "screenshots"
MAX_HEIGHT = 2400  # px of a phone page kept: a few screens, not a 20-screen list
WIDTHS = {375: {"width": 375, "height": 812}, 1280: {"width": 1280, "height": 900}}

# (file name, who, path); {referral} is filled in with the connector's referral.
PAGES = [
    ("referrals", "gp@kindly.example", "/referrals"),
    ("letters", "gp@kindly.example", "/letters"),
    ("caseload", "connector@kindly.example", "/caseload"),
    ("caseload-queue", "connector@kindly.example", "/caseload/queue"),
    ("workspace", "connector@kindly.example", "/caseload/referrals/{referral}"),
    ("measures", "connector@kindly.example", "/caseload/referrals/{referral}/measures"),
    ("suggestions", "connector@kindly.example", "/caseload/referrals/{referral}/suggestions"),
    ("hub", "coordinator@kindly.example", "/hub"),
    ("admin-users", "admin@kindly.example", "/admin/users"),
    ("admin-api-clients", "admin@kindly.example", "/admin/api-clients"),
    ("privacy", None, "/privacy"),
    ("accessibility", None, "/accessibility"),
    ("status", None, "/status"),
]


def demo_app(folder: Path):
    app = referrals.create_app({"ENV_NAME": "test",
                                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'shots.db'}"})
    with app.app_context():
        flask_migrate.upgrade()
        demo.build(password=DEMO_PASSWORD)
        db.session.commit()
        jo = db.session.scalars(select(User).where(User.email == "connector@kindly.example")).one()
        referral = db.session.scalars(select(Referral).where(
            Referral.connector_id == jo.id, Referral.status == ReferralStatus.IN_PROGRESS)
            .order_by(Referral.id)).first()
        referral_id = referral.id
        db.session.remove()
    return app, referral_id


def shoot(base: str, referral_id: int, output: Path) -> list[Path]:
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        contexts = {}
        for name, email, path in PAGES:
            if email not in contexts:
                context = browser.new_context(base_url=base)
                # The NHS.UK font comes from the internet; the pages fall back to Arial.
                context.route(lambda url: not url.startswith(base),
                              lambda route: route.abort("blockedbyclient"))
                page = context.new_page()
                if email:
                    page.goto("/login")
                    page.get_by_label("Email address").fill(email)
                    page.get_by_label("Password").fill(DEMO_PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    page.wait_for_load_state()
                contexts[email] = page
            page = contexts[email]
            for width, viewport in WIDTHS.items():
                page.set_viewport_size(viewport)
                page.goto(path.format(referral=referral_id))
                target = output / f"{name}-{width}.png"
                if width == 375:
                    height = min(page.evaluate("document.documentElement.scrollHeight"),
                                 MAX_HEIGHT)
                    page.screenshot(path=target, full_page=True,
                                    clip={"x": 0, "y": 0, "width": 375, "height": height})
                else:
                    page.screenshot(path=target)
                written.append(target)
        browser.close()
    return written


def main(argv: list[str]) -> None:
    output = Path(argv[0]) if argv else OUTPUT
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app, referral_id = demo_app(Path(folder))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            for path in shoot(f"http://127.0.0.1:{server.server_port}", referral_id, output):
                print(f"{path} ({path.stat().st_size // 1024} KB)")
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])

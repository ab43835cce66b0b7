"""Security headers on every response, and who may keep a copy of it.

One after_request hook (registered by create_app) so no view can forget them. Pages carry
no inline script or style (templates/base.html loads static/kindly-early.js for the class
the NHS.UK template would set inline), so the policy needs no 'unsafe-inline', nonce or
hash.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, session
from flask_login import current_user

# The NHS.UK stylesheet asks assets.nhs.uk for the Frutiger web font; nothing else is
# fetched from anywhere but Kindly itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self'; "
    "font-src 'self' https://assets.nhs.uk; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
NO_STORE = "no-store"
PUBLIC_CACHE = "public, max-age=300"

# Public pages that show no person and may be kept by any cache while the visitor is not
# signed in (a signed-in member of staff sees their own name in the header).
PUBLIC_PAGES = frozenset({"directory.search", "directory.volunteer", "directory.offer"})
# The Open Referral API serves the same public data to everyone, signed in or not.
PUBLIC_API_BLUEPRINTS = frozenset({"openreferral"})

ALWAYS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Referral and person ids are in our paths; other sites never see them.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def register(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    for name, value in ALWAYS.items():
        response.headers.setdefault(name, value)
    # Chrome draws a PDF in a synthetic page with inline styles, which a page policy
    # would blank; the letter is our own WeasyPrint output, served nosniff and no-store.
    if response.mimetype != "application/pdf":
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
    if request.is_secure:  # behind a proxy too: ProxyFix trusts its X-Forwarded-Proto
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = _cache_control(response)
    return response


def content_security_policy() -> str:
    """The policy, with the directory map's tile host (MAP_TILE_URL) allowed for images."""
    host = tile_host(current_app.config.get("MAP_TILE_URL", ""))
    if not host:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("img-src 'self';", f"img-src 'self' {host};")


def tile_host(url: str) -> str:
    """The scheme and host of a tile URL as a CSP source ("{s}." subdomains as "*."); empty
    for a URL on Kindly itself or one that is not http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d+)?", host):
        return ""  # nothing else may reach the policy
    return f"{parts.scheme}://{host}"


def _cache_control(response: Response) -> str:
    """no-store unless the response is public data that no cookie could have shaped."""
    cacheable = (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not _sets_a_cookie(response)
        and (request.blueprint in PUBLIC_API_BLUEPRINTS
             or (request.endpoint in PUBLIC_PAGES and not current_user.is_authenticated))
    )
    return PUBLIC_CACHE if cacheable else NO_STORE


def _sets_a_cookie(response: Response) -> bool:
    # The session cookie is written after this hook runs, so ask Flask whether it will be.
    return ("Set-Cookie" in response.headers
            or current_app.session_interface.should_set_cookie(current_app, session))

"""Searchset plumbing shared by every /fhir search: a keyset page of rows, the
`_include` check, de-duplicated included resources, and the Bundle with its self and
next links."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import request
from sqlalchemy import func, select

from fhir_adapters import bundle as bundles
from fhir_adapters.errors import FhirError
from fhir_adapters.http import base_url, respond
from referrals.extensions import db


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


def no_includes() -> None:
    if wanted := request.args.getlist("_include"):
        raise FhirError(f"_include={wanted[0]} is not supported here",
                        expression=["_include"], code="not-supported")


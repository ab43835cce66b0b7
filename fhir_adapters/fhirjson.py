"""FHIR's own JSON rules that the R4B models do not enforce, checked on the raw body.

FHIR JSON has no `null`: an element without a value is left out. The one place a
null may stand is a repeating primitive whose values and extensions are sent as two
aligned arrays (`"given": ["Ada", null], "_given": [null, {"extension": [...]}]`),
where it marks the half an item lacks. And a `_x` key (the id and extensions of the
primitive `x`) holds an object, or for a repeating primitive an array of objects.

fhir.resources accepts nulls almost everywhere and parses a `_x` string as JSON (so
`"_gender": "1"` crashed it), so the whole body is checked here first.
"""
from __future__ import annotations

from fhir_adapters.errors import FhirError

# Enough to point at what is wrong without answering with a second copy of the body.
MAX_REPORTED = 20


def check(body: dict) -> None:
    """Raise a 400 naming every misplaced null and malformed `_x` key (up to 20)."""
    found = problems(body)
    if found:
        shown = found[:MAX_REPORTED]
        more = f" (and {len(found) - len(shown)} more)" if len(found) > len(shown) else ""
        raise FhirError("; ".join(f"{path}: {message}" for path, message in shown) + more,
                        expression=[path for path, _ in shown], code="structure")


def problems(body: dict) -> list[tuple[str, str]]:
    """(FHIRPath-style element path, message) for each rule the body breaks, in order."""
    root = body.get("resourceType") if isinstance(body.get("resourceType"), str) else ""
    found: list[tuple[str, str]] = []
    # Iterative, not recursive: a body may nest deeper than Python's recursion limit.
    stack: list[tuple[str, object]] = [(root, body)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            children = list(_object_children(path, node, found))
        elif isinstance(node, list):
            children = [(f"{path}[{i}]", item) for i, item in enumerate(node)]
            for child_path, item in children:
                if item is None:
                    found.append((child_path, NULL))
        else:
            continue
        stack.extend(reversed([(p, v) for p, v in children if v is not None]))
    return found


NULL = "null is not allowed in FHIR JSON; leave the element out"
_NOT_AN_OBJECT = "must be an object holding the primitive's id and extensions (got a JSON {kind})"


def _object_children(path: str, node: dict, found: list):
    for key, value in node.items():
        here = f"{path}.{key}" if path else key
        if value is None:
            found.append((here, NULL))
        elif key.startswith("_") and len(key) > 1:
            yield from _extension_children(here, value, node.get(key[1:]), found)
        elif isinstance(value, list):
            partner = node.get(f"_{key}")
            for index, item in enumerate(value):
                if item is None and not _aligned(partner, index, len(value)):
                    found.append((f"{here}[{index}]", NULL + " (a null in a primitive array "
                                  f"needs an extension object at the same place in _{key})"))
                elif item is not None:
                    yield f"{here}[{index}]", item
        else:
            yield here, value


def _extension_children(path: str, value, values, found: list):
    """A `_x` key: an object, or an array of objects and nulls aligned with `x`."""
    if isinstance(value, dict):
        yield path, value
        return
    if not isinstance(value, list):
        found.append((path, _NOT_AN_OBJECT.format(kind=_kind(value))))
        return
    for index, item in enumerate(value):
        here = f"{path}[{index}]"
        if isinstance(item, dict):
            yield here, item
        elif item is None:
            if not _aligned(values, index, len(value)):
                found.append((here, NULL + " (a null in an extension array needs a value at "
                                    "the same place in the primitive array)"))
        else:
            found.append((here, _NOT_AN_OBJECT.format(kind=_kind(item))))


def _aligned(partner, index: int, length: int) -> bool:
    """Does the other half of an aligned pair hold something at `index`?"""
    return isinstance(partner, list) and len(partner) == length and partner[index] is not None


def _kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


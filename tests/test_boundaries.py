"""The dependency rules: the domain never imports fhir_adapters or reports."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# create_app() is the composition root: it alone wires the FHIR blueprint in.
COMPOSITION_ROOT = ROOT / "referrals" / "__init__.py"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_domain_never_imports_fhir_adapters_or_reports():
    offenders = []
    for path in (ROOT / "referrals").rglob("*.py"):
        if path == COMPOSITION_ROOT:
            continue
        for module in imported_modules(path):
            if module.split(".")[0] in ("fhir_adapters", "reports"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders, offenders


def test_fhir_mappers_are_pure_no_flask_or_session():
    mappers = ["patient", "organization", "practitioner", "servicerequest", "task", "consent",
               "common", "codes", "bundle", "capability"]
    offenders = []
    for name in mappers:
        path = ROOT / "fhir_adapters" / f"{name}.py"
        for module in imported_modules(path):
            if module.split(".")[0] == "flask" or module == "referrals.extensions":
                offenders.append(f"{name}.py imports {module}")
    assert not offenders, offenders

"""The dependency rules: the domain never imports fhir_adapters or reports."""
from __future__ import annotations

import ast
import os
import re
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


# --- every permission rule lives in referrals/access.py ----------------------------------

# The rules themselves, and the models that define what a role is (Role.belongs_to_team…).
RULE_HOMES = {ROOT / "referrals" / "access.py", ROOT / "referrals" / "models"}
ROLE_SETS = {"PRACTICE_ROLES", "HUB_ROLES", "CLINICAL_ROLES", "REFERRING_ROLES"}


def source_files(*tops: str):
    for top in tops:
        path = ROOT / top
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


# Whoever is acting, and what they belong to: comparing these is scoping.
ACTING = {"current_user", "user", "actor", "client", "g"}
BELONGS_TO = {"practice_id", "team_id", "practice_ids", "practices"}


def _mentions_a_role(node: ast.AST) -> bool:
    """`x.role`, `Role.X`, one of access.py's role sets, or the acting user's (or API
    client's) practice or team."""
    for part in ast.walk(node):
        if isinstance(part, ast.Attribute) and (
                part.attr == "role" or part.attr in ROLE_SETS
                or (isinstance(part.value, ast.Name) and part.value.id == "Role")
                or (part.attr in BELONGS_TO and isinstance(part.value, ast.Name)
                    and part.value.id in ACTING)):
            return True
        if isinstance(part, ast.Name) and part.id in ROLE_SETS:
            return True
    return False


def _decides_by_role(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):  # user.role is Role.X, role in HUB_ROLES, User.role == …
        return any(_mentions_a_role(side) for side in (node.left, *node.comparators))
    # SQL: User.role.in_([...]), Referral.practice_id.in_(g.practice_ids)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("in_", "not_in", "is_", "is_not")
            and (_mentions_a_role(node.func.value)
                 or any(_mentions_a_role(arg) for arg in node.args)))


def role_decisions(source: str) -> list[int]:
    """The lines of `source` that compare a role, or the acting user's practice or team,
    in Python or in SQL."""
    return sorted({node.lineno for node in ast.walk(ast.parse(source))
                   if _decides_by_role(node)})


def test_no_module_but_access_compares_roles():
    """Who may see or do something is decided in referrals/access.py alone; everyone else
    asks it (can, scope, holds_caseload…), API clients included. Declaring a route's roles (allow(Role.X)) and
    looking a role up in a table (HOME_ENDPOINTS[user.role]) are not decisions."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in source_files("referrals", "fhir_adapters", "reports", "bench", "wsgi.py")
        if path not in RULE_HOMES and not RULE_HOMES & set(path.parents)
        for line in role_decisions(path.read_text())
    ]
    assert not offenders, f"permission decisions outside referrals/access.py: {offenders}"


def test_the_role_walk_finds_what_it_is_meant_to():
    sample = ("def f(user, q):\n"
              "    a = user.role is Role.CONNECTOR\n"
              "    b = user.role in HUB_ROLES\n"
              "    c = q.where(User.role == Role.COORDINATOR)\n"
              "    d = q.where(User.role.in_([Role.REFERRER]))\n"
              "    e = role is not Role.ADMIN\n"
              "    f = HOME[user.role]\n"
              "    g = allow(Role.ADMIN)\n"
              "    h = user.role.label == 'x'\n"
              "    i = q.where(Referral.practice_id.in_(g.practice_ids))\n"
              "    j = letter.practice_id != current_user.practice_id\n"
              "    k = q.where(Referral.team_id == team.id)\n")
    assert role_decisions(sample) == [2, 3, 4, 5, 6, 9, 10, 11]


def test_templates_ask_instead_of_comparing_roles():
    """Templates show, never decide: a page gets flags from its view (which asks access)."""
    compare = re.compile(r"\.role(\.value)?\s*(==|!=|\bis\b|\bin\b)|\brole\s*(==|!=)")
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "templates").rglob("*.html"))
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if compare.search(line)]
    assert not offenders, offenders


# --- no module outside tests/ over 500 lines -------------------------------------------

MAX_LINES = 500
# The product card fixes referrals/access.py as the one home of every permission rule, so
# it may not be split by idea like other modules; its sections (referrals, letters,
# reports, accounts, community) keep it readable. It gets its own, still finite, limit.
LONGER_ALLOWED = {ROOT / "referrals" / "access.py": 900}
# Top-level folders that are not the project's code (installed packages, npm's, the
# built assets, the database) or are the tests themselves.
NOT_OURS = {".venv", "node_modules", "static", "instance", ".git", "tests"}


def test_no_module_outside_tests_is_over_500_lines():
    """Long modules hide bugs: split one by idea when it grows past MAX_LINES. bench/ is
    included (its casework and directory parts are being split as this lands)."""
    too_long = []
    for directory, subdirectories, files in os.walk(ROOT):
        top = Path(directory) == ROOT
        subdirectories[:] = [d for d in subdirectories
                             if not (top and d in NOT_OURS) and not d.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                path = Path(directory) / name
                lines = len(path.read_text().splitlines())
                if lines > LONGER_ALLOWED.get(path, MAX_LINES):
                    too_long.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"

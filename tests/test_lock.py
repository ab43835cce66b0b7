"""The lock files match pyproject.toml (regenerate them with `make lock`).

Offline and quick: the lock's pins are compared with pyproject.toml's requirements, and the
dependency graph is walked through the metadata of the packages installed from the lock
(`make install` installs exactly those). Each requirement must be pinned to a version it
accepts, every pin must be needed, every pin must carry hashes, and the runtime lock must
agree with the development one.
"""
from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The lock is made for Python 3.11 on Linux (Makefile: LOCK_FLAGS).
LOCK_ENVIRONMENT = {"python_version": "3.11", "python_full_version": "3.11.0",
                    "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                    "implementation_name": "cpython", "platform_python_implementation": "CPython"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def read_lock(name: str) -> dict[str, str]:
    """{package: version} from a lock file, checking each pin carries at least one hash."""
    pins: dict[str, str] = {}
    entries = re.split(r"\n(?=\S)", (ROOT / name).read_text())
    for entry in entries:
        if not entry.strip() or entry.startswith("#"):
            continue
        match = _PIN.match(entry)
        assert match, f"{name}: not a pinned requirement: {entry.splitlines()[0]!r}"
        assert _HASH.search(entry), f"{name}: {match.group(1)} has no hash"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def roots(*, dev: bool) -> list[Requirement]:
    found = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]]
    if dev:
        found += PYPROJECT["project"]["optional-dependencies"]["dev"]
    return [Requirement(text) for text in found]


def applies(requirement: Requirement, extra: str = "") -> bool:
    if requirement.marker is None:
        return True
    return requirement.marker.evaluate({**LOCK_ENVIRONMENT, "extra": extra})


def closure(lock: str, pins: dict[str, str], start: list[Requirement]) -> set[str]:
    """Every package the requirements need, each checked against its pin."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(requirement, "pyproject.toml") for requirement in start]
    while todo:
        requirement, wanted_by = todo.pop()
        name = canonicalize_name(requirement.name)
        assert name in pins, (f"{lock} has no pin for {requirement} (wanted by {wanted_by}): "
                              "run `make lock`")
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, which {wanted_by} does not accept "
            f"({requirement}): run `make lock`")
        extras = frozenset(requirement.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for dependency in installed_requirements(lock, name, pins[name]):
            if applies(dependency) or any(applies(dependency, extra) for extra in extras):
                todo.append((dependency, name + (f"[{','.join(sorted(extras))}]"
                                                 if extras else "")))
    return {name for name, _ in seen}


def installed_requirements(lock: str, name: str, version: str) -> list[Requirement]:
    """What the pinned package requires, from its installed metadata."""
    try:
        installed = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{name} is not installed: run `make install-dev`")
    assert installed.version == version, (
        f"{name} {installed.version} is installed but {lock} pins {version}: "
        "run `make install-dev`")
    return [Requirement(text) for text in installed.requires or []]


def check_lock(lock: str, pins: dict[str, str], *, dev: bool) -> None:
    needed = closure(lock, pins, [r for r in roots(dev=dev) if applies(r)])
    assert set(pins) == needed, (f"{lock} pins packages nothing needs: "
                                 f"{sorted(set(pins) - needed)}: run `make lock`")


@pytest.mark.parametrize(("lock", "dev"), [("requirements.lock", False),
                                           ("requirements-dev.lock", True)])
def test_the_lock_pins_exactly_what_pyproject_needs(lock, dev):
    check_lock(lock, read_lock(lock), dev=dev)


def test_development_installs_the_same_versions_as_production():
    runtime, dev = read_lock("requirements.lock"), read_lock("requirements-dev.lock")

    differ = {name: (version, dev.get(name)) for name, version in runtime.items()
              if dev.get(name) != version}

    assert not differ, f"runtime and dev locks disagree: {differ}: run `make lock`"


# The check can fail: each way the lock can drift from pyproject.toml is caught.


def test_a_requirement_missing_from_the_lock_is_caught():
    pins = read_lock("requirements.lock")
    del pins["flask"]

    with pytest.raises(AssertionError, match="has no pin for flask"):
        check_lock("requirements.lock", pins, dev=False)


def test_a_dependency_of_a_dependency_missing_from_the_lock_is_caught():
    pins = read_lock("requirements.lock")
    del pins["psycopg-binary"]  # needed through psycopg[binary] only

    with pytest.raises(AssertionError, match="has no pin for psycopg-binary"):
        check_lock("requirements.lock", pins, dev=False)


def test_a_pin_outside_pyprojects_range_is_caught():
    pins = {**read_lock("requirements.lock"), "sqlalchemy": "1.4.54"}

    with pytest.raises(AssertionError, match="pins sqlalchemy==1.4.54, which .* does not accept"):
        check_lock("requirements.lock", pins, dev=False)


def test_a_pin_nothing_needs_is_caught():
    pins = {**read_lock("requirements.lock"), "pytest": read_lock("requirements-dev.lock")["pytest"]}

    with pytest.raises(AssertionError, match=r"pins packages nothing needs: \['pytest'\]"):
        check_lock("requirements.lock", pins, dev=False)

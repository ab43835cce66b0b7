"""The servers the load benchmark drives, started as their operators would start them.

- SQLite: `flask --app wsgi run`, Werkzeug's threaded server with the reminder scheduler in
  the web process, as `make run` starts it, on a fresh temporary database.
- PostgreSQL: gunicorn with several workers, as production runs it, against a throwaway
  cluster started here (initdb and pg_ctl, as the `postgres` user when run as root, like
  tests/conftest.py) or an empty database given by URL.

Either way the schema comes from the migrations and the data from `seed-demo`, each in a
subprocess of this Python, and the server listens on a free port on 127.0.0.1.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

import sqlalchemy
from sqlalchemy import inspect, text

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "kindly-demo"
_TOKEN = re.compile(r"its token, shown once:\s*\n\s*(\S+)")


@dataclass
class Server:
    """A running server: where it listens, what it runs on, and where its log goes."""

    url: str
    kind: str  # "flask run (threaded), in-process scheduler" or "gunicorn, N sync workers"
    dialect: str
    database: str  # for the report; no password
    database_url: str
    api_token: str
    log: Path
    nhs_numbers_in_use: set[str] = field(default_factory=set)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of `make run`, pointed at our database. Stray KINDLY_* settings of
    the shell running the bench are left out, so two runs measure the same app."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KINDLY_") and k not in ("DATABASE_URL", "FLASK_DEBUG")}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32),
                # In-app notifications only: the scheduler must not try to send email.
                "KINDLY_SMTP_HOST": "", "PYTHONUNBUFFERED": "1", **settings})
    return env


# `flask --app wsgi db upgrade` then `flask --app wsgi seed-demo`, as `make run` does, in one
# process: loading the app once instead of twice saves seconds of every short run.
_PREPARE = """
import sys
from wsgi import app
for command in (["db", "upgrade"], ["seed-demo", "--password", sys.argv[1]]):
    with app.app_context():  # as the flask command gives every command
        result = app.test_cli_runner().invoke(args=command)
    print(result.stdout)
    if result.exit_code != 0:
        print(result.stderr, result.exception, file=sys.stderr)
        sys.exit(f"flask {' '.join(command)} failed")
# One account per simulated person: signing out ends every session of that account, so
# people sharing a demo account would sign each other out.
from sqlalchemy import select
from bench.users import extra_accounts
from referrals.auth.service import create_user
from referrals.extensions import db
from referrals.models import User
with app.app_context():
    for email, like in extra_accounts(int(sys.argv[2])):
        model = db.session.scalars(select(User).where(User.email == like)).one()
        create_user(email=email, name=f"Load {email.split('@')[0]}", role=model.role,
                    password=sys.argv[1], practice=model.practice, team=model.team,
                    capacity=model.capacity)
    db.session.commit()
"""


def _prepare(database_url: str, env: dict[str, str], log: Path, people: int
             ) -> tuple[str, set[str]]:
    """Migrate, seed the demo, give each of `people` an account of their own; the demo API
    client's token and the NHS numbers in use."""
    # The demo's outcome letters are PDFs (seconds of WeasyPrint) that no simulated person
    # opens: seeded without them, a short run starts sooner.
    run = subprocess.run([sys.executable, "-c", _PREPARE, DEMO_PASSWORD, str(people)], cwd=ROOT,
                         env={**env, "KINDLY_LETTERS_ON_CLOSE": "false"}, capture_output=True,
                         text=True, timeout=900, check=False)
    with log.open("a") as out:
        out.write(f"$ flask --app wsgi db upgrade && flask --app wsgi seed-demo\n"
                  f"{run.stdout}{run.stderr}\n")
    if run.returncode != 0:
        raise RuntimeError(f"migrating or seeding failed:\n{run.stderr[-2000:]}")
    match = _TOKEN.search(run.stdout)
    if match is None:
        raise RuntimeError("seed-demo printed no API client token")
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            numbers = {row[0] for row in conn.execute(
                text("SELECT nhs_number FROM patient WHERE nhs_number IS NOT NULL"))}
    finally:
        engine.dispose()
    return match.group(1), numbers


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, *,
                   timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s")


@contextmanager
def _serving(command: list[str], env: dict[str, str], log: Path, url: str):
    """Start a server in its own process group, wait for /healthz, stop it afterwards."""
    with log.open("a") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(url, process, log)
        yield
    finally:
        if process.poll() is None:
            # Its own session: gunicorn's workers and the dev server's threads go with it.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def sqlite_server(folder: Path, *, people: int):
    """`make run`'s server on a fresh SQLite file in `folder`, for `people` at once."""
    database_url = f"sqlite:///{folder / 'kindly.db'}"
    env = _environment(database_url, KINDLY_ENV="development")
    log = folder / "server.log"
    token, numbers = _prepare(database_url, env, log, people)
    # As `make run`: the development configuration, and the scheduler in the web process
    # only (wsgi.py would start it in the migrate and seed commands too).
    env["KINDLY_SCHEDULER"] = "in-process"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
               "--port", str(port)]
    with _serving(command, env, log, url):
        yield Server(url=url, kind="flask run (Werkzeug, threaded), in-process scheduler",
                     dialect="sqlite", database=f"temporary SQLite file in {folder}",
                     database_url=database_url, api_token=token, log=log,
                     nhs_numbers_in_use=numbers)


@contextmanager
def gunicorn_server(folder: Path, database_url: str, *, workers: int, where: str,
                    people: int):
    """gunicorn with `workers` sync workers on an empty PostgreSQL database, for `people`
    at once."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        if inspect(engine).get_table_names():
            raise RuntimeError("the database already has tables; give an empty, throwaway one")
    finally:
        engine.dispose()
    # Production runs the web workers without a scheduler (it is its own process), and
    # plain http here, so the development configuration's cookies (not Secure) apply.
    env = _environment(database_url, KINDLY_ENV="development")
    log = folder / "server.log"
    try:
        token, numbers = _prepare(database_url, env, log, people)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                   f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "10",
                   "wsgi:app"]
        with _serving(command, env, log, url):
            yield Server(url=url, kind=f"gunicorn, {workers} sync workers",
                         dialect="postgresql", database=where, database_url=database_url,
                         api_token=token, log=log, nhs_numbers_in_use=numbers)
    finally:
        _drop_everything(database_url)


def _drop_everything(database_url: str) -> None:
    """Drop the tables (and PostgreSQL enum types) the migrations made."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        metadata = sqlalchemy.MetaData()
        metadata.reflect(engine)
        with engine.begin() as conn:
            metadata.drop_all(conn)
            if engine.dialect.name == "postgresql":
                for enum in inspect(conn).get_enums():
                    conn.execute(text(f'DROP TYPE IF EXISTS "{enum["name"]}"'))
    finally:
        engine.dispose()


# --- a throwaway PostgreSQL cluster ------------------------------------------------------


def _pg_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for candidate in sorted(glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root, so run the cluster as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def postgres_cluster():
    """A throwaway cluster on a Unix socket in a temp dir; yields the URL of an empty
    database in it, and removes the cluster afterwards."""
    bindir = _pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL's initdb/pg_ctl are not installed; install "
                           "postgresql or give --database-url")
    root = Path(tempfile.mkdtemp(prefix="kindly-load-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log, port = root / "data", root / "postgres.log", free_port()

    def run(*args: str) -> None:
        subprocess.run(_as_postgres([str(bindir / args[0]), *args[1:]]), check=True,
                       capture_output=True)

    try:
        run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync")
        # synchronous_commit=off loses at most the last moment of commits on a crash, as
        # SQLite's WAL with synchronous=NORMAL does: the two are measured alike.
        options = (f"-k {root} -p {port} -c listen_addresses='' -c synchronous_commit=off "
                   "-c max_connections=200")
        run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        try:
            admin = sqlalchemy.create_engine(
                f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}",
                isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE kindly_load"))
            admin.dispose()
            yield f"postgresql+psycopg://postgres@/kindly_load?host={root}&port={port}"
        finally:
            subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                         "stop"]), capture_output=True, check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)

"""`flask --app wsgi import-imd CSV [--replace]`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from referrals.deprivation import importing
from referrals.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(import_imd)


@click.command("import-imd")
@click.argument("path", metavar="CSV", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path))
@click.option("--replace", is_flag=True,
              help="Remove every stored decile first, so the file is the whole table.")
def import_imd(path: Path, replace: bool) -> None:
    """Load IMD deciles by postcode: columns postcode, imd_decile (or decile) and
    optionally lsoa_code (or lsoa11cd), in any case. Bad lines are reported with their
    line numbers; the good ones are loaded."""
    report = load_file(path, replace=replace, progress=True)
    click.echo(report.summary())
    for line, message in report.problems:
        click.echo(f"Line {line}: {message}", err=True)
    if report.problems:
        raise click.ClickException(
            f"{len(report.problems)} line(s) not loaded (see above); every other line was")


def load_file(path: Path, *, replace: bool = False, progress: bool = False
              ) -> importing.ImdReport:
    """Read and load one CSV file, then commit; ClickException if it cannot be read at
    all (nothing is loaded then)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            total = sum(1 for _ in handle)
        with path.open(newline="", encoding="utf-8-sig") as handle:
            if not progress:
                report = _load(handle, replace)
            else:
                with click.progressbar(length=total, label="Loading IMD deciles",
                                       show_pos=True) as bar:
                    report = _load(_counted(handle, bar), replace)
    except importing.ImdFileInvalid as exc:
        db.session.rollback()
        raise click.ClickException(f"{path}: {exc}; nothing was loaded") from None
    except UnicodeDecodeError:
        db.session.rollback()
        raise click.ClickException(f"{path}: not UTF-8 text; nothing was loaded") from None
    db.session.commit()
    return report


def _load(lines, replace: bool) -> importing.ImdReport:
    rows, report = importing.read(lines)
    return importing.load(rows, report, replace=replace)


def _counted(lines, bar):
    for line in lines:
        bar.update(1)
        yield line

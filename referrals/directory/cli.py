"""`flask --app wsgi import-openreferral | import-directory-csv | export-openreferral |
import-postcodes`."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import click
from flask import Flask

from referrals.directory import csv_layout, importing
from referrals.extensions import db
from referrals.geo import PostcodeRowError, load_postcodes


def register(app: Flask) -> None:
    for command in (import_openreferral, import_directory_csv, export_openreferral,
                    import_postcodes):
        app.cli.add_command(command)


def _finish(report: importing.ImportReport, problems: list[str]) -> None:
    """Commit what was imported, say what changed, and fail if anything was refused."""
    db.session.commit()
    for line in report.changes:
        click.echo(line)
    if not report.changed:
        click.echo("Nothing changed.")
    for line in report.summary():
        click.echo(line)
    for line in problems:
        click.echo(f"Problem: {line}", err=True)
    if problems:
        raise click.ClickException(
            f"{len(problems)} problem(s); everything else was imported (see above)")


def _run(services_by_source: list[tuple[str, list]], label: str) -> importing.ImportReport:
    total = sum(len(services) for _, services in services_by_source)
    report = importing.ImportReport()
    with click.progressbar(length=total, label=label, show_pos=True) as bar:
        for source, services in services_by_source:
            report.add(importing.import_pages([services], progress=bar.update, source=source))
    return report


@click.command("import-openreferral")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_openreferral(files: tuple[Path, ...]) -> None:
    """Upsert services from Open Referral UK JSON (pages, services or lists of them)."""
    loaded, problems = [], []
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8-sig"))
            loaded.append((path.name, importing.oruk.services_in(document)))
        except UnicodeDecodeError:
            problems.append(f"{path}: not UTF-8 text")
        except json.JSONDecodeError as exc:
            problems.append(f"{path}: not JSON ({exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno})")
        except importing.oruk.MappingError as exc:
            problems.append(f"{path}: {exc}")
    report = _run(loaded, "Importing services")
    _finish(report, problems + report.errors)


@click.command("import-directory-csv")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_directory_csv(folder: Path) -> None:
    """Upsert services from a folder of CSV files (see docs/openreferral.md)."""
    try:
        services, problems = csv_layout.read_csv_folder(folder)
    except importing.ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    report = _run([(f"{folder.name}/services.csv", services)], "Importing services")
    _finish(report, problems + report.errors)


@click.command("export-openreferral")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="File to write (default: standard output).")
def export_openreferral(output: Path | None) -> None:
    """Write the whole directory as one Open Referral UK page of fully nested services."""
    page = importing.export_page()
    text = json.dumps(page, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"Exported {page['total_items']} services to {output}", err=True)


@click.command("import-postcodes")
@click.argument("path", metavar="CSV", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path))
def import_postcodes(path: Path) -> None:
    """Load postcode coordinates: columns postcode,latitude,longitude (or the ONS
    postcode directory's pcds,lat,long); outward codes alone are district centroids."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = sum(1 for _ in handle) - 1
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            headings = set(reader.fieldnames or ())
            if not (headings & {"postcode", "pcds", "pcd"} and headings & {"latitude", "lat"}
                    and headings & {"longitude", "long"}):
                raise click.ClickException(
                    f"{path}: needs columns postcode,latitude,longitude (or pcds,lat,long); "
                    f"found {', '.join(reader.fieldnames or ()) or 'none'}")
            with click.progressbar(length=max(rows, 0), label="Loading postcodes",
                                   show_pos=True) as bar:

                def counted():
                    for row in reader:
                        bar.update(1)
                        yield row

                counts = load_postcodes(counted())
    except PostcodeRowError as exc:
        db.session.rollback()
        raise click.ClickException(f"{path}: {exc}; nothing was loaded") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise click.ClickException(f"{path}: not a CSV file ({exc})") from None
    db.session.commit()
    click.echo(", ".join(f"{n} {outcome}" for outcome, n in counts.items()))

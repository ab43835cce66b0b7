"""Import (ORUK JSON, CSV) and export of the directory: upsert by id, idempotent,
nothing lost, one bad service loses no others; and the commands that run them."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from referrals.directory import csv_layout, importing, oruk
from referrals.directory import vocabulary as v
from referrals.geo import locate
from referrals.models import (
    Location,
    Offer,
    OfferKind,
    OfferStatus,
    PostcodePlace,
    Schedule,
    TaxonomyTerm,
)
from tests.referrals.directory.conftest import oruk_id, oruk_service, small_directory_page
from tests.referrals.directory.test_oruk_mapping import normalised

DEMO_FILE = Path(__file__).resolve().parents[3] / "referrals" / "directory" / "data" / \
    "kindlebury-directory.json"


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def outcome(report, entity) -> tuple[int, int, int]:
    tally = report.counts[entity]
    return tally.created, tally.updated, tally.unchanged


@pytest.fixture
def demo_page():
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


# --- round trip and idempotency -----------------------------------------------------


def test_the_demo_directory_exports_as_it_was_imported_with_every_id(db, demo_page,
                                                                     validate_oruk):
    report = importing.import_pages([copy.deepcopy(demo_page)])
    assert not report.errors
    assert outcome(report, "services") == (len(demo_page["contents"]), 0, 0)

    exported = importing.export_page()

    validate_oruk("service", exported)
    assert exported["total_items"] == len(demo_page["contents"])
    by_id = {s["id"]: normalised(s) for s in exported["contents"]}
    for service in demo_page["contents"]:
        assert by_id[service["id"]] == normalised(service), service["name"]


def test_importing_the_export_again_changes_nothing(db, demo_page):
    importing.import_pages([demo_page])
    again = importing.import_pages([importing.export_page()])

    assert not again.changed, again.changes
    assert not again.errors
    assert outcome(again, "services") == (0, 0, len(demo_page["contents"]))
    assert again.counts["locations"].unchanged > 0


def test_a_second_import_of_the_same_page_creates_and_updates_nothing(db, directory):
    again = importing.import_pages([small_directory_page()])

    assert not again.changed
    for entity in ("organizations", "locations", "services", "service_at_locations",
                   "schedules", "cost_options", "attributes", "taxonomy_terms"):
        created, updated, unchanged = outcome(again, entity)
        assert (created, updated) == (0, 0), entity
        assert unchanged > 0, entity
    assert again.changes == []


def test_an_organisation_or_location_nested_in_many_services_is_counted_once(db, directory):
    report = directory.report

    assert outcome(report, "organizations") == (1, 0, 0)
    # The park is nested in three services; five locations in all.
    assert outcome(report, "locations") == (5, 0, 0)
    assert count(db, Location) == 5


# --- upserting changes --------------------------------------------------------------


def test_a_changed_service_is_updated_and_what_changed_is_reported(db, directory):
    page = small_directory_page()
    walk = page["contents"][0]
    walk["description"] = "Now with a longer route."
    walk["last_modified"] = "2026-11-01T09:00:00Z"
    walk["schedules"] = []  # the walk no longer has a schedule
    walk["cost_options"][0]["amount"] = 1

    report = importing.import_pages([page])

    assert outcome(report, "services") == (0, 1, 5)
    assert report.counts["schedules"].removed == 1
    assert outcome(report, "cost_options")[1] == 1
    offer = db.session.get(Offer, walk["id"])
    assert offer.description == "Now with a longer route."
    assert offer.schedules == []
    assert offer.is_free is False
    assert any(line.startswith(f"updated service {walk['id']}") and "description" in line
               for line in report.changes)
    assert any(line.startswith("removed schedule") for line in report.changes)
    assert not importing.import_pages([page]).changed


def test_a_service_missing_its_kind_keeps_the_kind_kindly_has(db, directory):
    page = small_directory_page()
    garden = page["contents"][3]
    garden["attributes"] = [a for a in garden["attributes"]
                            if a["taxonomy_term_id"] not in oruk.KIND_BY_TERM_ID]

    importing.import_pages([page])

    assert db.session.get(Offer, garden["id"]).kind is OfferKind.VOLUNTEERING


def test_a_new_service_without_a_kind_is_a_service(db):
    service = oruk_service("Advice line")
    service["attributes"] = []

    importing.import_pages([service])

    assert db.session.get(Offer, service["id"]).kind is OfferKind.SERVICE


def test_every_taxonomy_and_term_seen_is_stored_foreign_ones_included(db, directory):
    from tests.referrals.directory.conftest import FOREIGN_TAXONOMY_ID, FOREIGN_TERM

    term = db.session.get(TaxonomyTerm, FOREIGN_TERM["id"])
    assert term.name == "Community gardens"
    assert term.taxonomy.name == "esd services"
    assert term.taxonomy_id == FOREIGN_TAXONOMY_ID
    kind_term = db.session.get(TaxonomyTerm, v.KIND_TERMS["volunteering"].id)
    assert kind_term.code == ""  # never mistaken for a category
    walk = db.session.get(Offer, directory.ids["Tuesday Health Walk"])
    assert walk.category_codes == ["physical-activity"]


def test_a_term_given_only_by_id_must_be_known_unless_it_is_kindlys_own(db):
    service = oruk_service("Shed")
    service["attributes"] = [
        {"id": oruk_id("a1"), "taxonomy_term_id": v.CATEGORY_BY_CODE["mens-sheds"].id},
        {"id": oruk_id("a2"), "taxonomy_term_id": v.KIND_TERMS["group"].id},
    ]
    unknown = oruk_service("Mystery")
    unknown["attributes"] = [{"id": oruk_id("a3"), "taxonomy_term_id": oruk_id("nowhere")}]

    report = importing.import_pages([[service, unknown]])

    assert db.session.get(Offer, service["id"]).category_codes == ["mens-sheds"]
    assert len(report.errors) == 1
    assert "item 2" in report.errors[0] and oruk_id("nowhere") in report.errors[0]


# --- bad data -----------------------------------------------------------------------


def test_one_bad_service_is_reported_and_the_others_are_imported(db):
    good, bad, also_good = (oruk_service("Good"), oruk_service("Bad"),
                            oruk_service("Also good"))
    bad["schedules"] = [{"id": oruk_id("s"), "opens_at": "half past ten"}]

    report = importing.import_pages([[good, bad, also_good]], source="town.json")

    assert outcome(report, "services") == (2, 0, 0)
    assert db.session.get(Offer, bad["id"]) is None
    assert report.errors == [
        (f"town.json: item 2, service {bad['id']} ('Bad'): schedules[0].opens_at: "
         "'half past ten' is not a time (HH:MM)")]


def test_text_too_long_for_kindly_is_refused_on_every_database(db):
    long_name = oruk_service("x" * 301)
    other = oruk_service("Fine")

    report = importing.import_pages([[long_name, other]])

    assert len(report.errors) == 1 and "name" in report.errors[0]
    assert "at most 300" in report.errors[0]
    assert db.session.get(Offer, other["id"]) is not None


def test_an_unknown_organization_id_is_refused(db):
    service = oruk_service("Orphan")
    del service["organization"]
    service["organization_id"] = oruk_id("nobody")

    report = importing.import_pages([service])

    assert "organization_id" in report.errors[0]
    assert count(db, Offer) == 0


def test_a_document_with_no_services_fails_whole(db):
    with pytest.raises(importing.ImportFailed):
        importing.import_pages([{"hello": "world"}], source="odd.json")


def test_a_failed_service_leaves_nothing_half_written(db, directory):
    page = small_directory_page()
    walk = page["contents"][0]
    walk["description"] = "Changed"
    walk["cost_options"][0]["amount"] = "lots"

    report = importing.import_pages([page])

    assert len(report.errors) == 1
    assert db.session.get(Offer, walk["id"]).description.startswith("All about")


# --- export -------------------------------------------------------------------------


def test_the_export_holds_every_service_whatever_its_status(db, directory, validate_oruk):
    page = importing.export_page()

    validate_oruk("service", page)
    statuses = {s["name"]: s["status"] for s in page["contents"]}
    assert statuses["Closed Choir"] == "inactive"
    assert page["total_items"] == len(directory.page["contents"])
    assert (page["first_page"], page["last_page"], page["total_pages"]) == (True, True, 1)


def test_changes_made_in_kindly_are_exported(db, directory):
    walk = db.session.get(Offer, directory.ids["Tuesday Health Walk"])
    walk.status = OfferStatus.INACTIVE
    walk.contact_phone = "01632 960555"
    walk.sites[0].location.accessibility = ["step-free", "hearing-loop"]
    db.session.flush()

    exported = {s["id"]: s for s in importing.export_page()["contents"]}[walk.id]

    assert exported["status"] == "inactive"
    assert exported["contacts"][0]["phones"][0]["number"] == "01632 960555"
    assert [a["details"] for a in exported["service_at_locations"][0]["location"][
        "accessibility"]] == ["step-free", "hearing-loop"]


# --- CSV ----------------------------------------------------------------------------

CSV_EXAMPLE = {
    "organizations.csv": """id,name,description,website
8f6f2a52-54a8-4f0e-9a0e-3b1f0d7c1a01,Kindlebury Community Trust,Runs the centre.,https://trust.kindlebury.example/
""",
    "services.csv": """id,organization_id,name,description,status,fees,minimum_age,assured_date,assurer_email,alternate_name
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,8f6f2a52-54a8-4f0e-9a0e-3b1f0d7c1a01,Knit and Natter,Bring a project.,active,Free,18,2026-10-01,coordinator@kindly.example,Knitting group
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d02,8f6f2a52-54a8-4f0e-9a0e-3b1f0d7c1a01,Garden Volunteers,Help in the garden.,active,Free,16,,,
""",
    "locations.csv": """id,location_type,name,latitude,longitude,address_1,city,postal_code
6a0b8e7c-2f1d-4c3b-9e8a-1d2c3b4a5f01,physical,Community Centre,52.8009,-2.0977,Forge Street,Kindlebury,KB1 1AD
""",
    "service_at_locations.csv": """id,service_id,location_id
9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b01,3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,6a0b8e7c-2f1d-4c3b-9e8a-1d2c3b4a5f01
9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b02,3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d02,6a0b8e7c-2f1d-4c3b-9e8a-1d2c3b4a5f01
""",
    "schedules.csv": """id,service_id,freq,interval,byday,opens_at,closes_at,description
5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c01,3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,WEEKLY,1,TU,14:00,16:00,Tuesday afternoons
5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c02,3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d02,WEEKLY,1,SA,10:00,13:00,
""",
    "cost_options.csv": """id,service_id,option,amount
7c6b5a4f-3e2d-4c1b-8a0f-9e8d7c6b5a01,3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,Free,0
""",
    "attributes.csv": """link_id,taxonomy_term_id
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,category:arts-crafts
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,kind:group
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d02,kind:volunteering
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d02,capacity:waiting-list
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d02,2b3c4d5e-6f70-4a81-9b2c-3d4e5f607181
""",
    "taxonomy_terms.csv": """id,taxonomy_id,name,description
2b3c4d5e-6f70-4a81-9b2c-3d4e5f607181,1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d,Community gardens,Gardens run by the community
""",
    "taxonomies.csv": """id,name,description
1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d,Local services list,The council's list
""",
    "accessibility.csv": """location_id,details,description
6a0b8e7c-2f1d-4c3b-9e8a-1d2c3b4a5f01,step-free,Step-free access
6a0b8e7c-2f1d-4c3b-9e8a-1d2c3b4a5f01,hearing-loop,Hearing loop
""",
    "languages.csv": """service_id,code
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,en
3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,pl
""",
    "contacts.csv": """id,service_id,name
4f3e2d1c-0b9a-4f8e-9d7c-6b5a4f3e2d01,3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01,Pat Knitter
""",
    "phones.csv": """contact_id,number
4f3e2d1c-0b9a-4f8e-9d7c-6b5a4f3e2d01,01632 960222
""",
}
KNIT = "3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d01"
GARDEN = "3c1c1f0a-1d2b-4f6e-8a4d-7f2e9b0c5d02"


@pytest.fixture
def csv_folder(tmp_path):
    for name, text in CSV_EXAMPLE.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_documented_csv_layout_imports_every_mapped_field(db, csv_folder, validate_oruk):
    services, problems = csv_layout.read_csv_folder(csv_folder)
    report = importing.import_pages([services])

    assert problems == [] and report.errors == []
    knit, garden = db.session.get(Offer, KNIT), db.session.get(Offer, GARDEN)
    assert (knit.kind, knit.category_codes, knit.languages) == (
        OfferKind.GROUP, ["arts-crafts"], ["en", "pl"])
    assert (knit.contact_name, knit.contact_phone) == ("Pat Knitter", "01632 960222")
    assert knit.is_free and knit.minimum_age == 18
    assert knit.extra["alternate_name"] == "Knitting group"
    assert knit.sites[0].location.accessibility == ["step-free", "hearing-loop"]
    assert knit.sites[0].location.postal_code == "KB1 1AD"
    assert knit.schedules[0].weekdays == ["TU"]
    assert (garden.kind, garden.capacity_status.value) == (OfferKind.VOLUNTEERING,
                                                           "waiting-list")
    assert garden.attributes[0].term.taxonomy.name == "Local services list"
    validate_oruk("service", importing.export_page())


def test_the_csv_import_is_idempotent(db, csv_folder):
    importing.import_pages([csv_layout.read_csv_folder(csv_folder)[0]])

    again = importing.import_pages([csv_layout.read_csv_folder(csv_folder)[0]])

    assert not again.changed, again.changes
    assert outcome(again, "services") == (0, 0, 2)


def test_csv_rows_pointing_nowhere_are_reported(db, csv_folder):
    with (csv_folder / "schedules.csv").open("a") as f:
        f.write("5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c09,no-such-service,WEEKLY,1,MO,,,\n")
    with (csv_folder / "attributes.csv").open("a") as f:
        f.write(f"{KNIT},category:not-a-category\n")

    _, problems = csv_layout.read_csv_folder(csv_folder)

    assert any("schedules.csv line 4" in p and "no-such-service" in p for p in problems)
    assert any("attributes.csv line 7" in p and "category:not-a-category" in p
               for p in problems)


def test_a_folder_without_services_csv_fails(tmp_path):
    with pytest.raises(importing.ImportFailed, match="no services.csv"):
        csv_layout.read_csv_folder(tmp_path)


# --- the commands -------------------------------------------------------------------


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


def write(path: Path, document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_import_openreferral_reports_counts_and_a_second_run_changes_nothing(
        db, runner, tmp_path):
    page = write(tmp_path / "town.json", small_directory_page())

    first = runner.invoke(args=["import-openreferral", str(page)])
    second = runner.invoke(args=["import-openreferral", str(page)])

    assert first.exit_code == 0, first.output
    assert "Importing services" in first.output
    assert "services: 6 created, 0 updated, 0 unchanged" in first.output
    assert f"created service {oruk_id('service:Garden Volunteers')}" in first.output
    assert second.exit_code == 0, second.output
    assert "services: 0 created, 0 updated, 6 unchanged" in second.output
    assert "Nothing changed." in second.output
    assert count(db, Offer) == 6


def test_import_openreferral_names_a_bad_file_and_item_and_still_imports_the_rest(
        db, runner, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"contents": [', encoding="utf-8")
    bad_service = oruk_service("Bad")
    bad_service["minimum_age"] = "young"
    mixed = write(tmp_path / "mixed.json", [oruk_service("Good"), bad_service])

    result = runner.invoke(args=["import-openreferral", str(broken), str(mixed)])

    assert result.exit_code == 1
    assert "broken.json: not JSON" in result.output
    assert f"mixed.json: item 2, service {bad_service['id']} ('Bad'): minimum_age" in \
        result.output
    assert "Traceback" not in result.output
    assert count(db, Offer) == 1


def test_import_directory_csv_imports_a_folder(db, runner, csv_folder):
    result = runner.invoke(args=["import-directory-csv", str(csv_folder)])

    assert result.exit_code == 0, result.output
    assert "services: 2 created" in result.output
    assert count(db, Offer) == 2


def test_import_directory_csv_refuses_a_folder_it_cannot_read(db, runner, tmp_path):
    result = runner.invoke(args=["import-directory-csv", str(tmp_path)])

    assert result.exit_code == 1
    assert "no services.csv" in result.output


def test_export_openreferral_writes_the_directory_to_a_file_or_standard_output(
        db, runner, directory, tmp_path):
    target = tmp_path / "out.json"

    to_file = runner.invoke(args=["export-openreferral", "--output", str(target)])
    to_stdout = runner.invoke(args=["export-openreferral"])

    assert to_file.exit_code == 0, to_file.output
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written == importing.export_page()
    assert json.loads(to_stdout.stdout) == written


def test_import_postcodes_loads_postcodes_and_outcode_centroids(db, runner, tmp_path):
    path = tmp_path / "postcodes.csv"
    path.write_text("postcode,latitude,longitude\nKB1 1AB,52.8,-2.1\nkb11ad,52.8009,-2.0978\n"
                    "KB2,52.79,-2.08\n", encoding="utf-8")

    first = runner.invoke(args=["import-postcodes", str(path)])
    second = runner.invoke(args=["import-postcodes", str(path)])

    assert first.exit_code == 0, first.output
    assert "Loading postcodes" in first.output
    assert "3 created, 0 updated, 0 unchanged, 0 skipped" in first.output
    assert "0 created, 0 updated, 3 unchanged" in second.output
    assert locate("KB1 1AD").latitude == pytest.approx(52.8009)
    assert locate("KB2 9ZZ").precision == "outcode"


def test_import_postcodes_reads_the_ons_postcode_directory_columns(db, runner, tmp_path):
    path = tmp_path / "onspd.csv"
    path.write_text("pcd,pcds,lat,long,oslaua\nKB1 1AB,KB1 1AB,52.8,-2.1,E06\n"
                    "KB9 9ZZ,KB9 9ZZ,99.999999,0.000000,E06\n", encoding="utf-8")

    result = runner.invoke(args=["import-postcodes", str(path)])

    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in result.output
    assert db.session.get(PostcodePlace, "KB1 1AB") is not None


@pytest.mark.parametrize("text, message", [
    ("postcode,latitude,longitude\nKB1 1AB,52.8,-2.1\nNOT A CODE,1,1\n", "row 3"),
    ("postcode,latitude,longitude\nKB1 1AB,north,-2.1\n", "must be numbers"),
    ("name,x,y\nKB1 1AB,52.8,-2.1\n", "needs columns postcode,latitude,longitude"),
])
def test_import_postcodes_refuses_a_bad_file_clearly_and_loads_nothing(db, runner, tmp_path,
                                                                      text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")

    result = runner.invoke(args=["import-postcodes", str(path)])

    assert result.exit_code == 1
    assert message in result.output and "bad.csv" in result.output
    assert "Traceback" not in result.output
    assert count(db, PostcodePlace) == 0


def test_the_importer_can_load_many_services_with_a_progress_callback(db):
    services = [oruk_service(f"Group {n}", day="MO", opens="10:00", closes="11:00")
                for n in range(30)]
    ticks = []

    report = importing.import_pages([{"contents": services}], progress=ticks.append)

    assert sum(ticks) == 30
    assert outcome(report, "services") == (30, 0, 0)
    assert count(db, Schedule) == 30


def test_a_nul_character_is_refused_alike_on_every_database(db):
    service = oruk_service("Nul\x00club")

    report = importing.import_pages([service])

    assert "contains a NUL character" in report.errors[0]
    assert count(db, Offer) == 0

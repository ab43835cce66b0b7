"""`flask --app wsgi import-imd CSV`: IMD deciles by postcode, upserted, bad lines reported
by line number while the good ones load, and whatever line endings or BOM the file has."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referrals.models import PostcodeDeprivation


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


def write(tmp_path, text: str, *, name="imd.csv", encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def stored(db) -> dict[str, tuple[int, str]]:
    return {d.postcode: (d.imd_decile, d.lsoa_code)
            for d in db.session.scalars(select(PostcodeDeprivation))}


GOOD = """postcode,imd_decile,lsoa_code
KB1 1AB,3,E01000001
kb21ab,7,E01000002
 LS1 4AP ,10,
"""


def test_a_good_file_loads_every_postcode_normalised(runner, db, tmp_path):
    result = runner.invoke(args=["import-imd", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged" in result.output
    assert stored(db) == {"KB1 1AB": (3, "E01000001"), "KB2 1AB": (7, "E01000002"),
                          "LS1 4AP": (10, "")}


def test_it_shows_progress(runner, db, tmp_path):
    result = runner.invoke(args=["import-imd", str(write(tmp_path, GOOD))])
    assert "Loading IMD deciles" in result.output


@pytest.mark.parametrize("header", ["Postcode,Decile,LSOA11CD", "POSTCODE,IMD_Decile,Lsoa_Code",
                                    "lsoa11cd,decile,postcode"])
def test_headings_are_case_insensitive_with_their_alternative_names(runner, db, tmp_path,
                                                                     header):
    names = [h.lower() for h in header.split(",")]
    values = {"postcode": "KB1 1AB", "decile": "4", "imd_decile": "4",
              "lsoa11cd": "E01000009", "lsoa_code": "E01000009"}
    text = f"{header}\n{','.join(values[n] for n in names)}\n"
    result = runner.invoke(args=["import-imd", str(write(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert stored(db) == {"KB1 1AB": (4, "E01000009")}


def test_bad_lines_are_reported_by_number_and_the_good_ones_still_load(runner, db, tmp_path):
    text = ("postcode,imd_decile\n"
            "KB1 1AB,3\n"
            "NOT A POSTCODE,4\n"
            "KB1 1AD,11\n"
            "KB1 2AA,0\n"
            "KB1 2BW,three\n"
            ",5\n"
            "KB2 1AB,\n"
            "KB3 5EF,9\n")
    result = runner.invoke(args=["import-imd", str(write(tmp_path, text))])
    assert result.exit_code == 1
    assert "2 created" in result.output
    for line, words in [(3, "'NOT A POSTCODE' is not a UK postcode"),
                        (4, "from 1 to 10, not '11'"), (5, "not '0'"), (6, "not 'three'"),
                        (7, "no postcode"), (8, "no decile")]:
        assert f"Line {line}: " in result.output and words in result.output, (line, result.output)
    assert "6 line(s) not loaded" in result.output
    assert stored(db) == {"KB1 1AB": (3, ""), "KB3 5EF": (9, "")}


def test_reimporting_replaces_what_changed_and_keeps_the_rest(runner, db, tmp_path):
    runner.invoke(args=["import-imd", str(write(tmp_path, GOOD))])
    again = write(tmp_path, "postcode,decile\nKB1 1AB,5\nKB2 1AB,7\nKB9 9ZZ,1\n", name="b.csv")
    result = runner.invoke(args=["import-imd", str(again)])
    assert result.exit_code == 0, result.output
    assert "1 created, 2 updated, 0 unchanged" in result.output
    # KB2 1AB's LSOA is gone: the file said nothing of it, and the row is replaced whole.
    assert stored(db) == {"KB1 1AB": (5, ""), "KB2 1AB": (7, ""), "LS1 4AP": (10, ""),
                          "KB9 9ZZ": (1, "")}
    assert db.session.scalar(select(func.count()).select_from(PostcodeDeprivation)) == 4


def test_replace_clears_the_table_first(runner, db, tmp_path):
    runner.invoke(args=["import-imd", str(write(tmp_path, GOOD))])
    again = write(tmp_path, "postcode,decile\nKB9 9ZZ,1\n", name="b.csv")
    result = runner.invoke(args=["import-imd", "--replace", str(again)])
    assert result.exit_code == 0, result.output
    assert "3 removed first (--replace), 1 created" in result.output
    assert stored(db) == {"KB9 9ZZ": (1, "")}


def test_a_bom_and_windows_line_endings_are_read(runner, db, tmp_path):
    path = write(tmp_path, GOOD.replace("postcode", "\ufeffPostcode", 1),
                 encoding="utf-8", newline="\r\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfPostcode,imd_decile,lsoa_code\r\n")
    result = runner.invoke(args=["import-imd", str(path)])
    assert result.exit_code == 0, result.output
    assert stored(db)["KB2 1AB"] == (7, "E01000002")
    assert stored(db)["LS1 4AP"] == (10, "")  # no "\r" left in the last column


def test_line_numbers_count_comments_and_blank_lines(runner, db, tmp_path):
    text = "# SYNTHETIC\npostcode,decile\n\nKB1 1AB,3\n# a note\nKB1 1AD,12\n"
    result = runner.invoke(args=["import-imd", str(write(tmp_path, text, newline="\r\n"))])
    assert "Line 6: " in result.output
    assert stored(db) == {"KB1 1AB": (3, "")}


def test_a_file_without_the_columns_loads_nothing_and_says_what_it_needs(runner, db, tmp_path):
    result = runner.invoke(args=["import-imd", str(write(tmp_path, "pcd,rank\nKB1 1AB,3\n"))])
    assert result.exit_code == 1
    assert "needs the columns postcode and imd_decile (or decile)" in result.output
    assert "found pcd, rank" in result.output and "nothing was loaded" in result.output
    assert stored(db) == {}


def test_a_file_that_is_not_utf8_loads_nothing(runner, db, tmp_path):
    path = tmp_path / "imd.csv"
    path.write_bytes(b"postcode,decile\nKB1 1AB,3\n\xff\xfe,1\n")
    result = runner.invoke(args=["import-imd", str(path)])
    assert result.exit_code == 1 and "not UTF-8 text" in result.output
    assert stored(db) == {}


def test_the_same_postcode_twice_keeps_the_later_line(runner, db, tmp_path):
    text = "postcode,decile\nKB1 1AB,3\nkb1 1ab,4\n"
    result = runner.invoke(args=["import-imd", str(write(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert stored(db) == {"KB1 1AB": (4, "")}

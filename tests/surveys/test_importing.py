"""Importing responses from CSV and XLSX files."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.errors import RowErrors, ServiceError
from surveys.importing import (
    ImportRefused,
    area_for_postcode,
    import_responses,
    normalise_postcode,
)
from surveys.models import Response, Site, Wave


def csv_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(session: Session) -> int:
    return session.scalar(select(func.count(Response.id))) or 0


GOOD = [
    ["site", "year_group", "gender", "safe_school", "activities", "life_satisfaction"],
    ["S01", "year6", "girl", "very_safe", "sport arts", "8"],
    ["S01", "year6", "boy", "not_safe", "", "3"],
    ["Birch School", "year7", "", "quite_safe", "none", ""],
]


@pytest.fixture
def setup(
    session: Session,
    make_site: Callable[..., Site],
    make_wave: Callable[..., Wave],
) -> dict[str, Any]:
    schools = [make_site("S01", name="Ash School"), make_site("S02", name="Birch School")]
    areas = [
        make_site("A1", kind="area", name="Northside", postcodes="E8 N16"),
        make_site("A2", kind="area", name="Southside", postcodes="E81 E9"),
    ]
    return {"wave": make_wave(), "schools": schools, "areas": areas}


def run(session: Session, wave: Wave, data: bytes, **kw: Any) -> Any:
    kw.setdefault("instrument_id", "pupil_perception")
    kw.setdefault("source", "pupils.csv")
    result = import_responses(session, wave=wave, data=data, **kw)
    session.commit()
    return result


def test_good_file_is_stored_with_typed_answers(session: Session, setup: dict[str, Any]) -> None:
    result = run(session, setup["wave"], csv_bytes(GOOD))
    assert (result.added, result.unchanged, result.skipped) == (3, 0, 0)
    stored = session.scalars(select(Response).order_by(Response.submitted_at)).all()
    assert {r.channel for r in stored} == {"import"}
    assert {r.status for r in stored} == {"submitted"}
    by_safety = {r.answers["safe_school"]: r for r in stored}
    assert by_safety["very_safe"].answers["activities"] == ["sport", "arts"]
    assert by_safety["very_safe"].answers["life_satisfaction"] == "8"
    assert by_safety["quite_safe"].site_id == setup["schools"][1].id  # site given by name
    assert "gender" not in by_safety["quite_safe"].answers


def test_reimporting_the_same_file_changes_nothing(session: Session, setup: dict[str, Any]) -> None:
    data = csv_bytes(GOOD)
    run(session, setup["wave"], data)
    ids = set(session.scalars(select(Response.id)))
    again = run(session, setup["wave"], data)
    assert (again.added, again.unchanged) == (0, 3)
    assert count(session) == 3
    assert set(session.scalars(select(Response.id))) == ids


def test_identical_rows_are_different_responses(session: Session, setup: dict[str, Any]) -> None:
    rows = [GOOD[0], GOOD[1], GOOD[1], GOOD[1]]
    assert run(session, setup["wave"], csv_bytes(rows)).added == 3
    assert run(session, setup["wave"], csv_bytes(rows)).added == 0
    assert count(session) == 3


def test_corrected_file_adds_only_the_fixed_row(session: Session, setup: dict[str, Any]) -> None:
    rows = [GOOD[0], GOOD[1], ["S01", "year6", "boy", "sometimes", "", "3"], GOOD[3]]
    first = run(session, setup["wave"], csv_bytes(rows), skip_bad=True)
    assert (first.added, first.skipped) == (2, 1)
    rows[2] = ["S01", "year6", "boy", "not_safe", "", "3"]
    second = run(session, setup["wave"], csv_bytes(rows))
    assert (second.added, second.unchanged) == (1, 2)
    assert count(session) == 3


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_stored(
    session: Session, setup: dict[str, Any]
) -> None:
    rows = [
        *GOOD,
        ["S01", "year6", "girl", "sometimes", "", "8"],
        ["S09", "year6", "girl", "very_safe", "", "8"],
        ["S01", "year6", "girl", "very_safe", "sport flying", "11"],
    ]
    with pytest.raises(RowErrors) as caught:
        run(session, setup["wave"], csv_bytes(rows))
    problems = caught.value.problems
    assert problems[0].startswith(
        "pupils.csv: row 5, column safe_school: 'sometimes' is not one of the choices ("
    )
    assert "very_safe, quite_safe, not_very_safe, not_safe" in problems[0]
    assert "row 6, column site: there is no site 'S09'" in problems[1]
    assert any("row 7, column activities: 'flying'" in p for p in problems)
    assert any("row 7, column life_satisfaction: '11'" in p for p in problems)
    assert count(session) == 0


def test_skip_bad_stores_the_good_rows(session: Session, setup: dict[str, Any]) -> None:
    rows = [*GOOD, ["S01", "year6", "girl", "sometimes", "", "8"]]
    result = run(session, setup["wave"], csv_bytes(rows), skip_bad=True)
    assert (result.added, result.skipped) == (3, 1)
    assert len(result.problems) == 1 and "row 5, column safe_school" in result.problems[0]
    assert count(session) == 3


def test_unknown_columns_are_reported_at_row_1(session: Session, setup: dict[str, Any]) -> None:
    rows = [[*GOOD[0], "favourite_colour"], [*GOOD[1], "blue"]]
    with pytest.raises(RowErrors) as caught:
        run(session, setup["wave"], csv_bytes(rows), skip_bad=True)
    assert caught.value.problems == [
        "pupils.csv: row 1, column favourite_colour: 'favourite_colour' is not a question in"
        " 'pupil_perception' (by name or label) nor one of the columns site, response_id, class,"
        " submitted_at, language, postcode, year_group, gender; map it to a question, or to"
        " 'ignore', in a mapping file"
    ]
    assert count(session) == 0


def test_missing_site_column(session: Session, setup: dict[str, Any]) -> None:
    with pytest.raises(RowErrors, match="row 1, column site: missing column"):
        run(session, setup["wave"], csv_bytes([["safe_school"], ["very_safe"]]))


def test_xlsx_with_the_same_columns(session: Session, setup: dict[str, Any]) -> None:
    rows = [GOOD[0], ["S01", "year6", "girl", "very_safe", "sport", 8], GOOD[3]]
    result = run(session, setup["wave"], xlsx_bytes(rows), source="pupils.xlsx")
    assert result.added == 2
    answers = [r.answers for r in session.scalars(select(Response))]
    assert {"life_satisfaction": "8"}.items() <= next(
        a for a in answers if a["safe_school"] == "very_safe"
    ).items()
    assert run(session, setup["wave"], xlsx_bytes(rows), source="pupils.xlsx").added == 0


def test_response_ids_class_language_and_time(
    session: Session, setup: dict[str, Any], make_class: Callable[..., Any]
) -> None:
    cls = make_class(setup["schools"][0], name="6A", year_group=6)
    rid = str(uuid.uuid4())
    rows = [
        ["response_id", "site", "class", "submitted_at", "language", "safe_school"],
        [rid.upper(), "S01", "6a", "2027-03-01T10:15:00", "pl", "very_safe"],
    ]
    run(session, setup["wave"], csv_bytes(rows))
    stored = session.get(Response, rid)
    assert stored is not None
    assert stored.class_id == cls.id
    assert stored.language == "pl"
    assert stored.submitted_at is not None and stored.submitted_at.day == 1


def test_corrected_row_with_an_id_is_updated(session: Session, setup: dict[str, Any]) -> None:
    rid = str(uuid.uuid4())
    header = ["response_id", "site", "safe_school"]
    run(session, setup["wave"], csv_bytes([header, [rid, "S01", "very_safe"]]))
    result = run(session, setup["wave"], csv_bytes([header, [rid, "S01", "not_safe"]]))
    assert (result.added, result.updated, result.unchanged) == (0, 1, 0)
    assert [(c.row, c.questions) for c in result.changes] == [(2, ("safe_school",))]
    stored = session.get(Response, rid)
    assert stored is not None and stored.answers["safe_school"] == "not_safe"


def test_id_of_a_web_response_with_other_answers_is_a_row_error(
    session: Session, setup: dict[str, Any]
) -> None:
    rid = str(uuid.uuid4())
    header = ["response_id", "site", "safe_school"]
    run(session, setup["wave"], csv_bytes([header, [rid, "S01", "very_safe"]]))
    stored = session.get(Response, rid)
    assert stored is not None
    stored.channel = "web"
    session.commit()
    with pytest.raises(RowErrors) as caught:
        run(session, setup["wave"], csv_bytes([header, [rid, "S01", "not_safe"]]))
    assert caught.value.problems == [
        f"pupils.csv: row 2, column response_id: response {rid} was already received with"
        " different answers; nothing was changed"
    ]
    session.refresh(stored)
    assert stored.answers["safe_school"] == "very_safe"


def test_bad_values_in_meta_columns(session: Session, setup: dict[str, Any]) -> None:
    rows = [
        ["response_id", "site", "class", "submitted_at", "language", "safe_school"],
        ["not-a-uuid", "S01", "9Z", "yesterday", "xx", "very_safe"],
    ]
    with pytest.raises(RowErrors) as caught:
        run(session, setup["wave"], csv_bytes(rows))
    text = "\n".join(caught.value.problems)
    assert "column response_id" not in text  # any respondent id is accepted
    assert "row 2, column class: there is no class '9Z' at site 'S01'" in text
    assert "row 2, column submitted_at: 'yesterday'" in text
    assert "row 2, column language: 'xx'" in text


def test_resident_postcode_maps_to_the_most_specific_area(
    session: Session, setup: dict[str, Any]
) -> None:
    a1, a2 = setup["areas"]
    rows = [
        ["site", "postcode", "area_satisfaction"],
        ["", "E8 4", "very_satisfied"],
        ["", "E8 1", "fairly_satisfied"],
        ["", "N16", "neither"],
        ["A1", "E9", "dont_know"],
    ]
    result = run(session, setup["wave"], csv_bytes(rows), instrument_id="resident_baseline")
    assert result.added == 4
    sites = {r.answers["area_satisfaction"]: r.site_id for r in session.scalars(select(Response))}
    assert sites == {
        "very_satisfied": a1.id,
        "fairly_satisfied": a2.id,
        "neither": a1.id,
        "dont_know": a1.id,  # an explicit site wins over the postcode
    }
    stored = {r.answers.get("postcode") for r in session.scalars(select(Response))}
    assert "E8 1" in stored


def test_postcode_outside_every_area(session: Session, setup: dict[str, Any]) -> None:
    rows = [["site", "postcode", "area_satisfaction"], ["", "SW1", "neither"]]
    with pytest.raises(RowErrors, match="row 2, column postcode: 'SW1' is in none"):
        run(session, setup["wave"], csv_bytes(rows), instrument_id="resident_baseline")


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [("E8 1AB", "A2"), ("e81ab", "A2"), ("E8 4QQ", "A1"), ("E18 1AA", None), ("N16 7XX", "A1")],
)
def test_area_for_postcode(setup: dict[str, Any], postcode: str, expected: str | None) -> None:
    found = area_for_postcode(postcode, setup["areas"])
    assert (found.code if found else None) == expected


def test_normalise_postcode() -> None:
    assert normalise_postcode("sw1a 1aa") == ("SW1A", "SW1A1AA")


def test_wave_without_the_instrument_is_refused(
    session: Session, setup: dict[str, Any], make_wave: Callable[..., Wave]
) -> None:
    wave = make_wave("Autumn 2027", instruments=("resident_baseline",))
    with pytest.raises(ImportRefused, match="does not use instrument 'pupil_perception'"):
        run(session, wave, csv_bytes(GOOD))
    with pytest.raises(ServiceError, match="there is no instrument 'nope'"):
        run(session, wave, csv_bytes(GOOD), instrument_id="nope")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "has no data rows"),
        (b"site,safe_school\n", "has no data rows"),
        (b"PK\x03\x04not a zip", "zip"),
    ],
)
def test_unreadable_files(
    session: Session, setup: dict[str, Any], data: bytes, message: str
) -> None:
    with pytest.raises(ServiceError, match=message):
        run(session, setup["wave"], data)

"""Importing the exports people have: KoboToolbox, ODK Central, SurveyMonkey, paper sheets."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.errors import RowErrors
from surveys.importing import (
    import_responses,
    read_mapping,
    rejects_csv,
    report_lines,
    source_response_id,
)
from surveys.models import Response, Site, Wave
from tests.fixtures import exports
from tests.fixtures.exports import Pupil

FORMATS: dict[str, tuple[str, Callable[[list[Pupil]], bytes], str]] = {
    # name: (file name, maker, detected format)
    "kobo_csv": ("kobo.csv", exports.kobo_csv, "kobo"),
    "kobo_labels": ("kobo-labels.xlsx", exports.kobo_xlsx_labels, "kobo"),
    "odk": ("odk.zip", exports.odk_zip, "odk"),
    "surveymonkey": ("surveymonkey.csv", exports.surveymonkey_csv, "surveymonkey"),
    "paper": ("paper.xlsx", exports.paper_xlsx, "file"),
}


def respondent(kind: str, person: Pupil) -> str:
    """The id each tool gives this pupil."""
    if kind == "surveymonkey":
        return str(11400000000 + person.serial)
    if kind == "paper":
        return f"P-{person.serial:04d}"
    if kind == "odk":
        return f"uuid:{person.uuid}"  # ODK's instanceID, kept as the export writes it
    return person.uuid


@pytest.fixture
def wave(session: Session, make_site: Callable[..., Site], make_wave: Callable[..., Wave]) -> Wave:
    for code, name in exports.SCHOOLS.items():
        make_site(code, name=name)
    return make_wave()


def run(session: Session, wave: Wave, name: str, data: bytes, **kw: Any) -> Any:
    if name.startswith("surveymonkey"):
        kw.setdefault("mapping", read_mapping(exports.SM_MAPPING, source="mapping.yaml"))
    result = import_responses(
        session, wave=wave, instrument_id=exports.INSTRUMENT, data=data, source=name, **kw
    )
    session.commit()
    return result


def utc(when: dt.datetime) -> dt.datetime:
    """A time as naive UTC (SQLite gives naive times back, PostgreSQL aware ones)."""
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def stored(session: Session) -> dict[str, Response]:
    return {r.id: r for r in session.scalars(select(Response))}


@pytest.mark.parametrize("kind", FORMATS)
def test_each_export_stores_the_pupils_answers(session: Session, wave: Wave, kind: str) -> None:
    name, make, fmt = FORMATS[kind]
    people = exports.pupils()
    result = run(session, wave, name, make(people))
    assert (result.format, result.added, result.skipped, result.problems) == (fmt, 24, 0, ())
    rows = stored(session)
    assert len(rows) == 24
    for person in people:
        source_id = respondent(kind, person)
        rid = source_response_id(wave.id, result.source, source_id)
        response = rows[rid]
        assert response.answers == person.answers, (kind, person.serial)
        assert response.site is not None and response.site.code == person.site
        assert response.submitted_at is not None
        assert utc(response.submitted_at).replace(second=0) == utc(person.submitted).replace(
            second=0
        )
        assert response.channel == "import"
        assert (response.source, response.source_id) == (result.source, source_id)
    if fmt in ("kobo", "odk"):
        assert [reason for _, reason in result.left_out] == [
            "marked 'not approved' in KoboToolbox" if fmt == "kobo" else "rejected in ODK Central"
        ]


@pytest.mark.parametrize("kind", FORMATS)
def test_importing_the_same_export_again_changes_nothing(
    session: Session, wave: Wave, kind: str
) -> None:
    name, make, _ = FORMATS[kind]
    data = make(exports.pupils())
    run(session, wave, name, data)
    before = {rid: (r.answers, r.updated_at) for rid, r in stored(session).items()}
    again = run(session, wave, name, data)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 24)
    session.expire_all()
    assert {rid: (r.answers, r.updated_at) for rid, r in stored(session).items()} == before


@pytest.mark.parametrize("kind", ["kobo_csv", "surveymonkey", "paper"])
def test_a_corrected_export_updates_only_the_changed_row(
    session: Session, wave: Wave, kind: str
) -> None:
    name, make, _ = FORMATS[kind]
    people = exports.pupils()
    first = run(session, wave, name, make(people))
    people[4].answers["safe_school"] = (
        "very_safe" if people[4].answers.get("safe_school") != "very_safe" else "not_safe"
    )
    result = run(session, wave, name, make(people))
    assert (result.added, result.updated, result.unchanged) == (0, 1, 23)
    assert [(c.respondent, c.questions) for c in result.changes] == [
        (respondent(kind, people[4]), ("safe_school",))
    ]
    rid = source_response_id(wave.id, first.source, respondent(kind, people[4]))
    assert stored(session)[rid].answers["safe_school"] == people[4].answers["safe_school"]
    assert session.scalar(select(func.count(Response.id))) == 24


MESSY = {
    "kobo": ("kobo-messy.csv", lambda p: exports.kobo_csv(p, messy=True)),
    "odk": ("odk-messy.zip", lambda p: exports.odk_zip(p, messy=True)),
    "surveymonkey": ("surveymonkey-messy.csv", lambda p: exports.surveymonkey_csv(p, messy=True)),
    "paper": ("paper-messy.xlsx", lambda p: exports.paper_xlsx(p, messy=True)),
}


@pytest.mark.parametrize("kind", MESSY)
def test_dry_run_of_a_messy_export_names_every_problem_and_writes_nothing(
    session: Session, wave: Wave, kind: str
) -> None:
    name, make = MESSY[kind]
    data = make(exports.pupils())
    result = run(session, wave, name, data, dry_run=True)
    text = "\n".join(report_lines(result))
    for expected in exports.MESSY_PROBLEMS[kind]:
        assert expected in text, text
    bad = {issue.row for issue in result.issues}
    assert result.skipped == len(bad) >= 2
    assert result.added == result.rows - result.skipped - len(result.duplicates)
    assert f"dry run: {result.added} would be added" in text
    assert session.scalar(select(func.count(Response.id))) == 0
    with pytest.raises(RowErrors):
        run(session, wave, name, data)
    assert session.scalar(select(func.count(Response.id))) == 0


def test_skip_invalid_stores_the_rest_and_the_rejects_file_holds_the_bad_rows(
    session: Session, wave: Wave
) -> None:
    name, make = MESSY["kobo"]
    result = run(session, wave, name, make(exports.pupils()), skip_bad=True)
    assert (result.added, result.skipped) == (22, 2)
    rejects = list(csv.reader(io.StringIO(rejects_csv(result).decode("utf-8-sig"))))
    assert [r[0] for r in rejects[1:]] == ["2", "3"]
    assert rejects[0][-1] == "problems" and "Fairly satisfied" in rejects[1][-1]


def test_messy_files_read_their_bytes_right(session: Session, wave: Wave) -> None:
    """BOM, Windows-1252, blank rows, merged title, trailing spaces, Excel serial dates."""
    people = exports.pupils()
    sm = run(session, wave, "sm.csv", exports.surveymonkey_csv(people, messy=True), dry_run=True)
    assert "Are you\u2026" in dict(sm.matched)  # the cp1252 ellipsis read as one
    paper = run(session, wave, "p.xlsx", exports.paper_xlsx(people, messy=True), dry_run=True)
    assert "note: row 1 above the column names passed over" in report_lines(paper)
    assert ("Date completed", "submitted_at") in paper.matched
    kobo = run(session, wave, "k.csv", exports.kobo_csv(people, messy=True), dry_run=True)
    assert ("safety/safe_school", "safe_school") in kobo.matched
    assert "_uuid" not in kobo.unmatched and "_notes" in kobo.ignored


# --- values as people type them ---------------------------------------------------------


def sheet(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def test_a_label_with_spaces_is_quoted_whole_in_the_error(session: Session, wave: Wave) -> None:
    with pytest.raises(RowErrors) as caught:
        run(session, wave, "p.csv", sheet(["site", "safe_school"], ["S01", "Fairly satisfied"]))
    assert caught.value.problems[0].startswith(
        "p.csv: row 2, column safe_school: 'Fairly satisfied' is not one of the choices ("
    )


def test_choice_labels_in_any_language_site_ids_in_any_case_and_uk_dates(
    session: Session, wave: Wave
) -> None:
    data = sheet(
        ["site", "submitted_at", "safe_school", "activities", "gender"],
        ["s01", "25/12/2024 14:30", "Bardzo bezpiecznie", "Klub młodzieżowy; sport", "A girl"],
        ["S02", "04/01/2025 09:05", "QUITE SAFE", "Music, drama, dance or art library", ""],
    )
    run(session, wave, "p.csv", data)
    rows = sorted(stored(session).values(), key=lambda r: utc(r.submitted_at or dt.datetime.min))
    assert [r.answers for r in rows] == [
        {"safe_school": "very_safe", "activities": ["sport", "youth_club"], "gender": "girl"},
        {"safe_school": "quite_safe", "activities": ["arts", "library"]},
    ]
    assert [utc(r.submitted_at).isoformat() for r in rows if r.submitted_at] == [
        "2024-12-25T14:30:00",
        "2025-01-04T09:05:00",  # day-first, as the column's 25/12 shows
    ]


def test_an_ambiguous_date_is_refused_unless_the_order_is_given(
    session: Session, wave: Wave
) -> None:
    data = sheet(["site", "submitted_at", "safe_school"], ["S01", "04/03/2025 10:00", "very_safe"])
    with pytest.raises(RowErrors, match="could be 4/3 as day/month or as month/day"):
        run(session, wave, "p.csv", data)
    run(session, wave, "p.csv", data, date_first="dmy")
    (response,) = stored(session).values()
    assert response.submitted_at is not None and response.submitted_at.month == 3


def test_mapping_file_names_columns_and_codes(session: Session, wave: Wave) -> None:
    mapping = read_mapping(
        b"columns:\n  Q3 Safe at school: safe_school\n  Where: site\n  Notes: ignore\n"
        b"values:\n  safe_school: {1: very_safe, 2: quite_safe, 3: not_very_safe, 4: not_safe}\n",
        source="map.yaml",
    )
    data = sheet(["Where", "Q3 Safe at school", "Notes"], ["S01", "2", "messy handwriting"])
    result = run(session, wave, "p.csv", data, mapping=mapping)
    assert result.ignored == ("Notes",)
    (response,) = stored(session).values()
    assert response.answers == {"safe_school": "quite_safe"}
    csv_mapping = read_mapping(
        b"column,question\nWhere,site\nQ3 Safe at school,safe_school\nNotes,ignore\n",
        source="map.csv",
    )
    assert csv_mapping.columns["Where"] == "site"


def test_labels_as_headers_match_questions(session: Session, wave: Wave) -> None:
    data = sheet(
        ["School", "Q4. How safe do you feel at school?"], ["Ash School", "Not safe at all"]
    )
    result = run(session, wave, "p.csv", data)
    assert dict(result.matched) == {
        "School": "site",
        "Q4. How safe do you feel at school?": "safe_school",
    }
    (response,) = stored(session).values()
    assert response.answers == {"safe_school": "not_safe"}


def test_kobo_choice_columns_stand_in_for_a_missing_select_multiple_column(
    session: Session, wave: Wave
) -> None:
    """KoboToolbox's "details" export of a select_multiple: one 0/1 column per choice."""
    data = (
        b"out_of_school/activities/sport;out_of_school/activities/arts;school;_uuid;_index\n"
        b"1;1;S01;0d9c8b7a-0000-4d3c-2b1a-000000000001;1\n"
        b"0;1;S02;0d9c8b7a-0000-4d3c-2b1a-000000000002;2\n"
        b"0;0;S02;0d9c8b7a-0000-4d3c-2b1a-000000000003;3\n"
    )
    result = run(session, wave, "kobo.csv", data)
    assert result.format == "kobo" and result.added == 3
    answers = sorted((r.source_id, r.answers) for r in stored(session).values())
    assert [a for _, a in answers] == [
        {"activities": ["sport", "arts"]},
        {"activities": ["arts"]},
        {},
    ]


def test_an_odk_repeat_with_several_entries_is_a_row_error(session: Session, wave: Wave) -> None:
    main = "SubmissionDate,school,safety-safe_school,KEY\n"
    main += "2025-03-04T10:00:00.000Z,S01,very_safe,uuid:a1\n"
    main += "2025-03-04T10:05:00.000Z,S01,not_safe,uuid:a2\n"
    repeat = "talk_to-adult_school,PARENT_KEY,KEY\nyes,uuid:a1,uuid:a1/talk_to[1]\n"
    repeat += "no,uuid:a2,uuid:a2/talk_to[1]\nyes,uuid:a2,uuid:a2/talk_to[2]\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("form.csv", main)
        archive.writestr("form-talk_to.csv", repeat)
    result = run(session, wave, "odk.zip", out.getvalue(), dry_run=True)
    assert [i.text("odk.zip") for i in result.issues] == [
        "odk.zip: row 3, column form-talk_to.csv: the repeat group has 2 entries for this"
        " submission; the instrument takes one answer per question"
    ]
    assert result.added == 1

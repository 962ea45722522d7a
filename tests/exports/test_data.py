"""Data exports: round trips through SPSS and Stata, the codebook, and what never leaves."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exports.data import build_dataset, export_wave, variable_name
from exports.dataset import ExportError, find_wave, load_instrument_data
from surveys.models import AccessCode, InstrumentVersion, Response, Site
from surveys.services import issue_code
from tests.exports.community import Built

#: Every test here builds the fixture community (about a second).
pytestmark = pytest.mark.slow

SECRET_TEXT = "My name is Zed Quinlan and I live at 4 Lark Road"


@pytest.fixture
def exported(session: Session, built: Built) -> Built:
    """The community, plus a class code and a free-text answer that must never be exported."""
    wave = find_wave(session, built.wave)
    version = session.scalar(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    site = session.scalar(select(Site).where(Site.code == "S01"))
    issue_code(session, wave=wave, version=version, kind="class", site=site)
    first = session.scalar(
        select(Response).where(Response.wave_id == wave.id, Response.site_id == site.id).limit(1)
    )
    answers = dict(first.answers)
    answers["area_better"] = SECRET_TEXT
    answers["activities"] = ["sport", "library"]
    session.execute(update(Response).where(Response.id == first.id).values(answers=answers))
    session.commit()
    built.names["first"] = first.id
    return built


def _dataset(session: Session, built: Built, instrument: str = "pupil_perception") -> Any:
    wave = find_wave(session, built.wave)
    return build_dataset(load_instrument_data(session, wave, instrument), wave=built.wave)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_round_trip_keeps_values_and_labels(
    session: Session, exported: Built, tmp_path: Path, fmt: str
) -> None:
    written = export_wave(session, wave=exported.wave, fmt=fmt, out_dir=tmp_path)
    path = tmp_path / f"spring-2027-pupil_perception.{fmt}"
    assert path in written
    if fmt == "sav":  # keep user-missing codes (-9...) as values to compare them
        back, meta = pyreadstat.read_sav(str(path), user_missing=True)
    else:
        back, meta = pyreadstat.read_dta(str(path))
    dataset = _dataset(session, exported)
    assert list(back.columns) == list(dataset.frame.columns)
    for column in ("safe_school", "gender", "life_satisfaction", "activities_sport"):
        expected = pd.to_numeric(dataset.frame[column].astype("Float64")).astype("float64")
        pd.testing.assert_series_equal(back[column].astype("float64"), expected, check_names=False)
        assert meta.variable_value_labels[column] == {
            float(k): v for k, v in dataset.value_labels[column].items()
        }
    assert meta.column_names_to_labels["safe_school"] == "How safe do you feel at school?"
    assert back["site"].tolist() == dataset.frame["site"].tolist()
    assert set(back["instrument_version"]) == {"2027.2"}
    if fmt == "sav":  # "prefer not to say" is user-missing in SPSS
        assert meta.missing_ranges["gender"] == [{"lo": -99.0, "hi": -1.0}]
        plain, _ = pyreadstat.read_sav(str(path))
        assert (
            plain["gender"].isna().sum()
            == (back["gender"] == -9).sum() + back["gender"].isna().sum()
        )
    assert meta.variable_value_labels["gender"][-9.0] == "Prefer not to say"


def test_csv_matches_the_codebook(session: Session, exported: Built, tmp_path: Path) -> None:
    export_wave(session, wave=exported.wave, fmt="csv", out_dir=tmp_path)
    with (tmp_path / "spring-2027-pupil_perception.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (tmp_path / "spring-2027-pupil_perception-codebook.csv").open(newline="") as handle:
        book = {r["variable"]: r for r in csv.DictReader(handle) if r["variable"]}
    assert list(rows[0]) == list(book)  # every column documented, in order
    for variable, entry in book.items():
        if not entry["values"]:
            continue
        codes = {int(part.split(" = ")[0]) for part in entry["values"].split("; ")}
        seen = {int(r[variable]) for r in rows if r[variable] != ""}
        assert seen <= codes, variable
    assert book["safe_school"]["label_pl"].startswith("Jak bezpiecznie")
    assert "Own wording" in book["safe_school"]["source"]
    assert book["gender"]["missing_codes"] == "-9"
    first = next(r for r in rows if r["response_id"] == exported.names["first"])
    assert (first["activities_sport"], first["activities_library"], first["activities_arts"]) == (
        "1",
        "1",
        "0",
    )
    assert len(rows) == sum(exported.schools.values())


def test_nothing_private_is_exported(session: Session, exported: Built, tmp_path: Path) -> None:
    written = []
    for fmt in ("csv", "xlsx", "sav", "dta"):
        written += export_wave(session, wave=exported.wave, fmt=fmt, out_dir=tmp_path / fmt)
    codes = [c.code for c in session.scalars(select(AccessCode))]
    assert codes
    for path in written:
        data = path.read_bytes()
        assert b"Zed Quinlan" not in data, path
        for code in codes:
            assert code.encode() not in data, path
    book = (tmp_path / "csv" / "spring-2027-pupil_perception-codebook.csv").read_text()
    assert "area_better" in book and "free text is never exported" in book


def test_xlsx_has_data_and_codebook_sheets(
    session: Session, exported: Built, tmp_path: Path
) -> None:
    export_wave(
        session, wave=exported.wave, fmt="xlsx", out_dir=tmp_path, instruments=["resident_baseline"]
    )
    book = load_workbook(tmp_path / "spring-2027-resident_baseline.xlsx", read_only=True)
    assert book.sheetnames == ["data", "codebook", "labels"]
    header = next(book["data"].iter_rows(max_row=1, values_only=True))
    assert "area_satisfaction" in header and "postcode" not in header
    assert sum(1 for _ in book["data"].iter_rows()) == 1 + sum(exported.areas.values())


def test_labels_instead_of_codes_in_csv_and_xlsx(
    session: Session, exported: Built, tmp_path: Path
) -> None:
    export_wave(session, wave=exported.wave, fmt="csv", out_dir=tmp_path, labels=True)
    path = tmp_path / "spring-2027-pupil_perception-labels.csv"
    with path.open(newline="") as handle:
        rows = {r["response_id"]: r for r in csv.DictReader(handle)}
    dataset = _dataset(session, exported)
    coded = dataset.frame.set_index("response_id")
    first = rows[exported.names["first"]]
    assert (first["activities_sport"], first["activities_arts"]) == ("chosen", "not chosen")
    for rid, row in list(rows.items())[:50]:
        code = coded.loc[rid, "safe_school"]
        expected = "" if pd.isna(code) else dataset.value_labels["safe_school"][int(code)]
        assert row["safe_school"] == expected
    assert {r["gender"] for r in rows.values()} >= {"Prefer not to say"}
    assert not {r["safe_school"] for r in rows.values()} & {"1", "2", "3", "4", "5"}

    export_wave(session, wave=exported.wave, fmt="xlsx", out_dir=tmp_path, labels=True)
    book = load_workbook(tmp_path / "spring-2027-pupil_perception-labels.xlsx", read_only=True)
    header = next(book["data"].iter_rows(max_row=1, values_only=True))
    column = header.index("gender")
    values = {row[column] for row in book["data"].iter_rows(min_row=2, values_only=True)}
    assert "Prefer not to say" in values
    labels = list(book["labels"].iter_rows(values_only=True))
    assert labels[0] == ("variable", "code", "label", "missing")
    assert ("gender", -9, "Prefer not to say", "yes") in labels
    with pytest.raises(ExportError, match="sav files always carry"):
        export_wave(session, wave=exported.wave, fmt="sav", out_dir=tmp_path, labels=True)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_every_format_is_written_owner_only(
    session: Session, built: Built, tmp_path: Path, umask: int
) -> None:
    import os

    old = os.umask(umask)
    try:
        written = []
        for fmt in ("csv", "xlsx", "sav", "dta"):
            written += export_wave(
                session,
                wave=built.wave,
                fmt=fmt,
                out_dir=tmp_path,
                instruments=["pupil_perception"],
            )
    finally:
        os.umask(old)
    assert {oct(path.stat().st_mode & 0o777) for path in written} == {oct(0o600)}


def test_variable_names_follow_spss_and_stata_rules(session: Session, exported: Built) -> None:
    for instrument in ("pupil_perception", "resident_baseline"):
        names = list(_dataset(session, exported, instrument).frame.columns)
        assert len({n.lower() for n in names}) == len(names)
        assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", n) for n in names)
    taken: set[str] = set()
    long = "a_very_long_item_name_that_goes_on_and_on"
    assert variable_name(long, taken) == long[:32]
    assert variable_name(long, taken) == long[:30] + "_2"


def test_unknown_instrument_or_format(session: Session, built: Built, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no instrument nope"):
        export_wave(session, wave=built.wave, fmt="csv", out_dir=tmp_path, instruments=["nope"])
    with pytest.raises(ExportError, match="format must be"):
        export_wave(session, wave=built.wave, fmt="pdf", out_dir=tmp_path)


def test_export_command(run_cli: Any, built: Built, tmp_path: Path) -> None:
    result = run_cli(
        "export",
        "--wave",
        built.wave,
        "--format",
        "dta",
        "--out",
        str(tmp_path),
        "--instrument",
        "pupil_perception",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "spring-2027-pupil_perception.dta").exists()
    assert "spring-2027-pupil_perception-codebook.csv" in result.output
    log = run_cli("audit", "--action", "export", "--json").output.splitlines()
    assert len(log) == 1
    entry = json.loads(log[0])
    assert entry["detail"] == {
        "format": "dta",
        "instrument": "pupil_perception",
        "files": 2,
        "labels": False,
        "via": "command line",
    }
    result = run_cli(
        "export", "--wave", built.wave, "--format", "xlsx", "--labels", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "spring-2027-resident_baseline-labels.xlsx").exists()
    assert json.loads(run_cli("audit", "--action", "export", "--json").output.splitlines()[1])[
        "detail"
    ]["labels"]
    result = run_cli("export", "--wave", built.wave, "--format", "dta", "--labels", "--out", "x")
    assert result.exit_code == 1 and "dta files always carry" in result.output

"""``placevoice responses import``, ``summary`` and ``margins import``."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Response, Site, Wave

SUMMARY_HEADER = (
    "wave,site,site_name,level,item,domain,n,n_missing,n_positive,pct_positive,ci_low,"
    "ci_high,benchmark_n,benchmark_pct,diff,p_value,p_adjusted,flag,suppressed"
)
AREA_HEADER = SUMMARY_HEADER + ",weighted_pct,design_effect,n_effective"


def write_csv(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def count(session: Session) -> int:
    """Responses stored, read in a transaction of its own (the CLI writes in between)."""
    session.rollback()
    number = session.scalar(select(func.count(Response.id))) or 0
    session.rollback()
    return number


@pytest.fixture
def schools(make_site: Callable[..., Site], make_wave: Callable[..., Wave]) -> list[Site]:
    make_wave()
    return [make_site(f"S0{i}", name=f"School {i}") for i in range(1, 7)]


def pupil_rows(safe_by_school: dict[str, tuple[int, int]]) -> list[list[str]]:
    """Rows with exactly (positive, negative) safe_school answers per school."""
    rows = [["site", "safe_school", "belong_school"]]
    for code, (pos, neg) in safe_by_school.items():
        rows += [[code, "very_safe", "agree"]] * pos
        rows += [[code, "not_safe", "agree"]] * neg
    return rows


def test_import_good_file(
    run_cli: Callable[..., Any], session: Session, schools: list[Site], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "pupils.csv", pupil_rows({"S01": (3, 2)}))
    result = run_cli(
        "responses",
        "import",
        str(path),
        "--instrument",
        "pupil_perception",
        "--wave",
        "Spring 2027",
    )
    assert result.exit_code == 0, result.output
    assert "responses: 5 added, 0 updated, 0 already stored, 0 bad row(s) skipped, of 5 row(s)" in (
        result.output
    )
    assert count(session) == 5
    again = run_cli(
        "responses",
        "import",
        str(path),
        "--instrument",
        "pupil_perception",
        "--wave",
        "Spring 2027",
    )
    assert "0 added, 0 updated, 5 already stored" in again.output
    assert count(session) == 5


def test_import_bad_file_stores_nothing(
    run_cli: Callable[..., Any], session: Session, schools: list[Site], tmp_path: Path
) -> None:
    rows = pupil_rows({"S01": (3, 2)})
    rows.insert(3, ["S01", "sometimes", "agree"])
    path = write_csv(tmp_path / "pupils.csv", rows)
    args = ("responses", "import", str(path), "--instrument", "pupil_perception")
    result = run_cli(*args, "--wave", "Spring 2027")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: pupils.csv: row 4, column safe_school: 'sometimes' is not one of the choices"
    )
    assert count(session) == 0
    skipped = run_cli(*args, "--wave", "Spring 2027", "--skip-bad")
    assert skipped.exit_code == 0
    assert "skipped: pupils.csv: row 4, column safe_school" in skipped.stderr
    assert (
        "5 added, 0 updated, 0 already stored, 1 bad row(s) skipped, of 6 row(s)" in skipped.stdout
    )
    assert count(session) == 5


def test_import_xlsx(
    run_cli: Callable[..., Any], session: Session, schools: list[Site], tmp_path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in pupil_rows({"S02": (2, 1)}):
        sheet.append(row)
    book.save(tmp_path / "pupils.xlsx")
    result = run_cli(
        "responses",
        "import",
        str(tmp_path / "pupils.xlsx"),
        "--instrument",
        "pupil_perception",
        "--wave",
        "Spring 2027",
    )
    assert result.exit_code == 0, result.output
    assert count(session) == 3


def test_import_unknown_wave(
    run_cli: Callable[..., Any], schools: list[Site], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", pupil_rows({"S01": (1, 0)}))
    result = run_cli(
        "responses", "import", str(path), "--instrument", "pupil_perception", "--wave", "Nope"
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: there is no wave called 'Nope'"


@pytest.fixture
def summary_data(run_cli: Callable[..., Any], schools: list[Site], tmp_path: Path) -> None:
    counts = {f"S0{i}": (60, 40) for i in range(2, 7)}
    counts = {"S01": (90, 10), **counts}
    path = write_csv(tmp_path / "pupils.csv", [*pupil_rows(counts)])
    small = write_csv(tmp_path / "small.csv", [["site", "safe_school"], ["S06", "very_safe"]])
    for file in (path, small):
        result = run_cli(
            "responses",
            "import",
            str(file),
            "--instrument",
            "pupil_perception",
            "--wave",
            "Spring 2027",
        )
        assert result.exit_code == 0, result.output


def test_summary_header_and_flags(
    run_cli: Callable[..., Any], summary_data: None, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "summary.csv"
    result = run_cli("summary", "--wave", "Spring 2027", "--level", "school", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0] == SUMMARY_HEADER
    rows = [r for r in read_rows(out) if r["item"] == "safe_school"]
    flags = {r["site"]: r["flag"] for r in rows}
    assert flags == {
        "S01": "higher",
        **{f"S0{i}": "similar" for i in range(2, 7)},
        "ALL": "",
    }
    s01 = next(r for r in rows if r["site"] == "S01")
    assert (s01["n"], s01["n_positive"], float(s01["pct_positive"])) == ("100", "90", 90.0)
    assert s01["benchmark_n"] == "501" and s01["suppressed"] == "false"
    assert float(s01["diff"]) == pytest.approx(90 - 100 * 301 / 501)  # unrounded
    assert all(r["level"] == "school" and r["wave"] == "Spring 2027" for r in rows)


def test_summary_suppresses_small_cells(
    run_cli: Callable[..., Any],
    summary_data: None,
    make_site: Callable[..., Site],
    tmp_path: Path,
) -> None:
    make_site("S07", name="Tiny School")
    small = write_csv(tmp_path / "tiny.csv", [["site", "safe_school"]] + [["S07", "very_safe"]] * 4)
    run_cli(
        "responses",
        "import",
        str(small),
        "--instrument",
        "pupil_perception",
        "--wave",
        "Spring 2027",
    )
    out = tmp_path / "summary.csv"
    run_cli("summary", "--wave", "Spring 2027", "--level", "school", "--out", str(out))
    tiny = next(r for r in read_rows(out) if r["site"] == "S07" and r["item"] == "safe_school")
    assert tiny["suppressed"] == "true"
    assert (tiny["site_name"], tiny["item"], tiny["domain"]) == (
        "Tiny School",
        "safe_school",
        "safety",
    )
    values = [tiny[c] for c in SUMMARY_HEADER.split(",")[6:-1]]
    assert values == [""] * len(values)


def test_summary_uses_the_community_k(
    run_cli: Callable[..., Any], summary_data: None, session: Session, tmp_path: Path
) -> None:
    from surveys.models import Community

    community = session.scalar(select(Community))
    assert community is not None
    community.suppression_k = 101
    session.commit()
    out = tmp_path / "summary.csv"
    result = run_cli("summary", "--wave", "Spring 2027", "--level", "school", "--out", str(out))
    assert "k = 101" in result.stdout
    rows = {r["site"]: r for r in read_rows(out) if r["item"] == "safe_school"}
    assert rows["S01"]["suppressed"] == "true"  # 100 answers < k
    assert rows["S06"]["suppressed"] == "false"  # 101 answers


def test_area_summary_unweighted_then_weighted(
    run_cli: Callable[..., Any],
    make_site: Callable[..., Site],
    make_wave: Callable[..., Wave],
    tmp_path: Path,
) -> None:
    make_wave()
    make_site("A1", kind="area", name="Northside", postcodes="E8")
    make_site("A2", kind="area", name="Southside", postcodes="E9")
    rows = [["site", "area_satisfaction", "sex", "age_band"]]
    for area, female_yes, male_yes in (("A1", 20, 5), ("A2", 12, 10)):
        rows += [[area, "very_satisfied", "female", "16-24"]] * female_yes
        rows += [[area, "very_dissatisfied", "female", "25-34"]] * 10
        rows += [[area, "very_satisfied", "male", "25-34"]] * male_yes
        rows += [[area, "very_dissatisfied", "male", "16-24"]] * 10
    path = write_csv(tmp_path / "residents.csv", rows)
    result = run_cli(
        "responses",
        "import",
        str(path),
        "--instrument",
        "resident_baseline",
        "--wave",
        "Spring 2027",
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "areas.csv"
    plain = run_cli("summary", "--wave", "Spring 2027", "--level", "area", "--out", str(out))
    assert plain.exit_code == 0, plain.output
    assert "no population margins are stored" in plain.stderr
    assert out.read_text().splitlines()[0] == AREA_HEADER
    a1 = next(r for r in read_rows(out) if r["site"] == "A1" and r["item"] == "area_satisfaction")
    assert float(a1["design_effect"]) == 1.0
    assert float(a1["weighted_pct"]) == pytest.approx(float(a1["pct_positive"]))

    margins = write_csv(
        tmp_path / "margins.csv",
        [
            ["area", "variable", "category", "proportion"],
            ["ALL", "sex", "female", "0.5"],
            ["ALL", "sex", "male", "0.5"],
            ["ALL", "age_band", "16-24", "0.5"],
            ["ALL", "age_band", "25-34", "0.5"],
        ],
    )
    stored = run_cli("margins", "import", str(margins))
    assert stored.exit_code == 0, stored.output
    assert "4 categories in 2 margin(s)" in stored.stdout
    weighted = run_cli("summary", "--wave", "Spring 2027", "--level", "area", "--out", str(out))
    assert "no population margins" not in weighted.stderr
    a1 = next(r for r in read_rows(out) if r["site"] == "A1" and r["item"] == "area_satisfaction")
    assert float(a1["design_effect"]) > 1.0
    assert float(a1["n_effective"]) < float(a1["n"])
    assert float(a1["weighted_pct"]) != pytest.approx(float(a1["pct_positive"]))


def test_margins_import_reports_bad_rows(
    run_cli: Callable[..., Any], make_site: Callable[..., Site], tmp_path: Path
) -> None:
    make_site("A1", kind="area")
    path = write_csv(
        tmp_path / "m.csv",
        [
            ["area", "variable", "category", "proportion"],
            ["A9", "sex", "female", "0.5"],
            ["A1", "sex", "male", "lots"],
        ],
    )
    result = run_cli("margins", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: m.csv: row 2, column area: there is no area 'A9' (use an area's site id, or ALL)",
        "error: m.csv: row 3, column proportion: 'lots' is not a number above 0",
    ]


def test_docs_mention_every_data_command() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "data.md").read_text()
    for command in (
        "placevoice responses import",
        "--skip-bad",
        "placevoice summary",
        "placevoice margins import",
        "/api/waves/",
        "/api/openapi.json",
    ):
        assert command in docs, command


def test_margins_that_cannot_be_met_leave_residents_unweighted(
    run_cli: Callable[..., Any],
    make_site: Callable[..., Site],
    make_wave: Callable[..., Wave],
    tmp_path: Path,
) -> None:
    make_wave()
    make_site("A1", kind="area", name="Northside")
    rows = [["site", "area_satisfaction", "sex"]] + [["A1", "very_satisfied", "female"]] * 12
    run_cli(
        "responses",
        "import",
        str(write_csv(tmp_path / "r.csv", rows)),
        "--instrument",
        "resident_baseline",
        "--wave",
        "Spring 2027",
    )
    margins = [["area", "variable", "category", "proportion"], ["", "sex", "female", "1"]]
    margins.append(["", "sex", "male", "1"])  # nobody in the sample is male
    run_cli("margins", "import", str(write_csv(tmp_path / "m.csv", margins)))
    out = tmp_path / "areas.csv"
    result = run_cli("summary", "--wave", "Spring 2027", "--level", "area", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "residents are not weighted: population margins: nobody in" in result.stderr
    row = next(r for r in read_rows(out) if r["site"] == "A1" and r["item"] == "area_satisfaction")
    assert float(row["design_effect"]) == 1.0


def test_import_dry_run_skip_invalid_rejects_and_mapping(
    run_cli: Callable[..., Any], session: Session, schools: list[Site], tmp_path: Path
) -> None:
    rows = [
        ["Serial no.", "School", "Q1 Safe at school", "Notes"],
        ["P-0001", "s01", "1", "neat"],
        ["P-0002", "S02", "Fairly safe", ""],
        ["P-0003", "School 3", "4", ""],
    ]
    path = write_csv(tmp_path / "paper.csv", rows)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n  Q1 Safe at school: safe_school\n  Notes: ignore\n"
        "values:\n  safe_school: {1: very_safe, 2: quite_safe, 3: not_very_safe, 4: not_safe}\n"
    )
    args = ["responses", "import", str(path), "--instrument", "pupil_perception"]
    args += ["--wave", "Spring 2027", "--mapping", str(mapping), "--source", "paper-2026"]
    dry = run_cli(*args, "--dry-run")
    assert dry.exit_code == 1  # the real import would store nothing
    assert "format: file (source 'paper-2026'); rows read: 3" in dry.stdout
    assert "Q1 Safe at school -> safe_school" in dry.stdout
    assert (
        "problem: paper.csv: row 3, column Q1 Safe at school: 'Fairly safe' is not one of the"
        " choices" in dry.stderr
    )
    assert "dry run: 2 would be added, 0 updated, 0 unchanged; 1 bad row(s) (3)" in dry.stdout
    assert count(session) == 0
    stored = run_cli(*args, "--skip-invalid")
    assert stored.exit_code == 0, stored.output
    assert "responses: 2 added, 0 updated, 0 already stored, 1 bad row(s) skipped" in stored.stdout
    rejects = tmp_path / "paper.csv.rejects.csv"
    assert "rejects: 1 row(s) written to" in stored.stderr
    text = rejects.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "row,Serial no.,School,Q1 Safe at school,Notes,problems"
    assert text.splitlines()[1].startswith("3,P-0002,S02,Fairly safe,,")
    assert count(session) == 2
    # The corrected rejects row, imported from the same source, adds just that respondent.
    fixed = write_csv(tmp_path / "fixed.csv", [rows[0], ["P-0002", "S02", "2", ""]])
    again = run_cli(*[str(fixed) if a == str(path) else a for a in args])
    assert "responses: 1 added" in again.stdout, again.output
    assert count(session) == 3

"""Benchmark: importing a responses file, next to pandas reading the same file (the floor).

Makes a questionnaire of 40 questions (38 five-point select_one items, a select_multiple
and an open text), a SQLite database with 40 schools and a wave using it, and a file of
N responses (a respondent id, the school, a UK date and time, then the 40 answers, some
as choice labels, some skipped) as CSV and as XLSX. Then, each in a fresh process so the
memory figures are not mixed up, times:

- ``pandas.read_csv`` / ``pandas.read_excel`` of the file (the floor: reading it only);
- ``surveys.importing.import_responses`` of the file into the wave (reading, matching,
  validating every answer, and storing in one transaction), then committing.

It prints rows per second, the process's peak RSS (and its growth over the process's
state before the work), and the import's time as a multiple of the floor's.

    .venv/bin/python bench/bench_import.py [--rows 20000] [--full] [--formats csv xlsx] [--keep DIR]

``--full`` is 100,000 rows (the size DESIGN.md's analysis budget uses); the XLSX part of a
full run takes several minutes, most of it in openpyxl.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_SCHOOLS = 40
N_QUESTIONS = 40
AGREE = [
    ("strongly_agree", "Agree a lot"),
    ("agree", "Agree"),
    ("not_sure", "Not sure"),
    ("disagree", "Disagree"),
    ("strongly_disagree", "Disagree a lot"),
]
CLUBS = [("sport", "Sport"), ("arts", "Arts"), ("youth", "Youth club"), ("none", "None")]


def form_markdown() -> str:
    """An XLSForm (markdown) with 40 questions."""
    rows = ["| survey |", "| | type | name | label | domain | positive |"]
    rows.extend(
        f"| | select_one agree5 | q{n:02d} | Statement {n} | d{n % 6} | agree strongly_agree |"
        for n in range(1, N_QUESTIONS - 1)
    )
    rows.append("| | select_multiple clubs | clubs | Clubs you go to | clubs | sport arts youth |")
    rows.append("| | text | ideas | Your ideas | ideas | |")
    rows += ["", "| choices |", "| | list_name | name | label |"]
    rows += [f"| | agree5 | {name} | {label} |" for name, label in AGREE]
    rows += [f"| | clubs | {name} | {label} |" for name, label in CLUBS]
    rows += ["", "| settings |", "| | form_id | version | form_title |"]
    rows += ["| | bench_forty | 1 | Forty questions |"]
    return "\n".join(rows) + "\n"


def build(directory: Path) -> Path:
    """A migrated SQLite database with the community, schools, instrument and wave."""
    from instruments import load_instrument
    from surveys.db import make_engine, make_sessionmaker, migrate
    from surveys.models import Site
    from surveys.services import create_wave, get_or_create_community, register_instrument

    db = directory / "import.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    form = directory / "bench_forty.md"
    form.write_text(form_markdown())
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        community = get_or_create_community(session, slug="bench", name="Bench")
        session.add_all(
            Site(community=community, code=f"S{i:03d}", name=f"School {i}", kind="school")
            for i in range(N_SCHOOLS)
        )
        register_instrument(session, load_instrument(form))
        create_wave(session, community=community, name="Bench wave", instrument_ids=["bench_forty"])
        session.commit()
    engine.dispose()
    return db


def rows(n: int, seed: int = 3) -> tuple[list[str], list[list[object]]]:
    rng = random.Random(seed)
    header = ["response_id", "site", "submitted_at"]
    header += [f"q{n:02d}" for n in range(1, N_QUESTIONS - 1)] + ["clubs", "ideas"]
    body: list[list[object]] = []
    for i in range(n):
        day = 1 + i % 28
        row: list[object] = [f"R-{i:07d}", f"S{rng.randrange(N_SCHOOLS):03d}"]
        row.append(f"{day:02d}/03/2025 {9 + i % 8:02d}:{i % 60:02d}")
        for _ in range(N_QUESTIONS - 2):
            if rng.random() < 0.08:
                row.append("")
                continue
            name, label = rng.choice(AGREE)
            row.append(label if rng.random() < 0.3 else name)
        row.append(" ".join(sorted(rng.sample(["sport", "arts", "youth"], rng.randint(1, 2)))))
        row.append(rng.choice(["More parks", "Safer roads", "", "A youth club"]))
        body.append(row)
    return header, body


def write_files(directory: Path, n: int, formats: list[str]) -> dict[str, Path]:
    header, body = rows(n)
    paths: dict[str, Path] = {}
    if "csv" in formats:
        paths["csv"] = directory / "responses.csv"
        with paths["csv"].open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(body)
    if "xlsx" in formats:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("responses")
        sheet.append(header)
        for row in body:
            sheet.append(row)
        paths["xlsx"] = directory / "responses.xlsx"
        book.save(paths["xlsx"])
    return paths


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, path: str, db: str) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    import pandas as pd

    from surveys.db import make_engine, make_sessionmaker
    from surveys.importing import import_responses
    from surveys.models import Wave

    before = _peak_mb()
    started = time.perf_counter()
    if mode == "floor":
        frame = (
            pd.read_csv(path, dtype=str, keep_default_na=False)
            if path.endswith(".csv")
            else pd.read_excel(path, dtype=str, engine="openpyxl")
        )
        count = len(frame)
    else:
        engine = make_engine(f"sqlite:///{db}")
        with make_sessionmaker(engine)() as session:
            wave = session.query(Wave).one()
            result = import_responses(
                session,
                wave=wave,
                instrument_id="bench_forty",
                data=Path(path).read_bytes(),
                source=Path(path).name,
                source_name=Path(path).suffix,
            )
            session.commit()
            assert not result.problems, result.problems[:3]
            count = result.added
        engine.dispose()
    seconds = time.perf_counter() - started
    peak = _peak_mb()
    print(json.dumps({"seconds": seconds, "rows": count, "peak": peak, "growth": peak - before}))


def measure(mode: str, path: Path, db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(db)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--full", action="store_true", help="100,000 rows")
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx"])
    parser.add_argument("--keep", type=Path, default=None, help="Keep the files in this folder.")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    n = 100_000 if args.full else args.rows
    directory = args.keep or Path(tempfile.mkdtemp(prefix="placevoice-bench-import-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"{n:,} rows x {N_QUESTIONS} questions (+ id, school, date); files in {directory}")
    paths = write_files(directory, n, args.formats)
    for fmt, path in paths.items():
        db = build(directory)
        floor = measure("floor", path, db)
        done = measure("import", path, db)
        assert done["rows"] == n, done
        ratio = done["seconds"] / floor["seconds"]
        print(
            f"{fmt.upper():4} {path.stat().st_size / 2**20:6.1f} MB |"
            f" pandas: {floor['seconds']:6.1f} s"
            f" ({n / floor['seconds']:8,.0f} rows/s, peak {floor['peak']:5.0f} MB)"
            f" | import: {done['seconds']:6.1f} s ({n / done['seconds']:8,.0f} rows/s,"
            f" peak {done['peak']:5.0f} MB, +{done['growth']:4.0f} MB)"
            f" | import / pandas = {ratio:4.1f}x"
        )


if __name__ == "__main__":
    main()

"""Benchmark: linking a city region's pupils from one wave to the next by their codes.

Builds a SQLite database with two waves of N pupils each (default 50,000; 190 schools,
years 5-11) whose identification codes are stored as keyed digests, as the survey stores
them. In the later wave 80% of pupils are last year's, one year up, with 12% of codes
retyped with one error and 5% with two, and 3% of pupils skipping a code question. Then
times, side by side in one run:

- ``link_codes`` alone (the matching, in memory, on the digests);
- ``link_waves`` (``placevoice panel link``): reading both waves' codes with each pupil's
  school and year group, matching, replacing the links and storing the report;

and prints the match rates against what was planted. Budget: 50,000 pupils x 2 waves in
under 10 s.

    .venv/bin/python bench/bench_panel.py [--pupils 50000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCHOOLS = 190
YEARS = (5, 6, 7, 8, 9, 10, 11)
LETTERS = "ABCDEFGHIJKLMNOPRSTVWYZ"
SECRET = "bench-" + "s" * 40


def _code(rng: np.random.Generator) -> dict[str, object]:
    return {
        "code_carer": LETTERS[int(rng.integers(len(LETTERS)))],
        "code_day": int(rng.integers(1, 32)),
        "code_siblings": int(rng.choice(5, p=[0.38, 0.32, 0.17, 0.08, 0.05])),
        "code_street": LETTERS[int(rng.integers(len(LETTERS)))],
    }


def _retype(rng: np.random.Generator, code: dict[str, object], parts: int) -> dict[str, object]:
    out = dict(code)
    for part in rng.choice(list(out), size=parts, replace=False):
        if part in ("code_carer", "code_street"):
            out[part] = LETTERS[(LETTERS.index(str(out[part])) + 1) % len(LETTERS)]
        elif part == "code_day":
            day = int(str(out[part]))
            out[part] = day + 1 if day % 10 != 9 and day < 31 else day - 1
        else:
            out[part] = (int(str(out[part])) + 1) % 10
    return out


def build(url: str, pupils: int, seed: int = 1) -> dict[str, int]:
    """Two waves of ``pupils`` each with codes; returns what was planted."""
    from sqlalchemy import insert, select

    from instruments import load_builtin
    from surveys.db import make_engine, make_sessionmaker, migrate
    from surveys.models import InstrumentVersion, Response, SchoolClass, Site
    from surveys.services import create_wave, ensure_builtin_instruments, get_or_create_community
    from surveys.services.panel.codes import community_key, store_codes

    engine = make_engine(url)
    migrate(engine)
    rng = np.random.default_rng(seed)
    instrument = load_builtin("pupil_perception")
    planted = {"returning": 0, "one": 0, "two": 0, "missing": 0}
    with make_sessionmaker(engine)() as session, session.begin():
        community = get_or_create_community(session, slug="region", name="City region")
        ensure_builtin_instruments(session)
        session.flush()
        version = session.scalar(
            select(InstrumentVersion.id).where(
                InstrumentVersion.instrument_id == "pupil_perception"
            )
        )
        previous = create_wave(
            session, community=community, name="2026", instrument_ids=("pupil_perception",)
        )
        current = create_wave(
            session,
            community=community,
            name="2027",
            instrument_ids=("pupil_perception",),
            previous="2026",
        )
        previous.status = current.status = "closed"
        sites = [
            Site(community=community, code=f"S{i:03d}", name=f"School {i}", kind="school")
            for i in range(SCHOOLS)
        ]
        session.add_all(sites)
        session.flush()
        classes = {}
        for site in sites:
            for year in YEARS:
                cls = SchoolClass(site_id=site.id, name=f"{year}A", year_group=year)
                session.add(cls)
                classes[(site.id, year)] = cls
        session.flush()
        now = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
        key = community_key(SECRET, community.id)
        school = rng.integers(0, SCHOOLS, size=pupils)
        year = rng.choice(YEARS[:-1], size=pupils)
        last: list[tuple[int, int, dict[str, object]]] = []
        for wave, later in ((previous, False), (current, True)):
            rows, codes = [], []
            for i in range(pupils):
                if later and rng.random() < 0.8:
                    site_id, year_group, true_code = last[i]
                    year_group += 1
                    draw = rng.random()
                    parts = 2 if draw < 0.05 else (1 if draw < 0.17 else 0)
                    code = _retype(rng, true_code, parts) if parts else dict(true_code)
                    planted["returning"] += 1
                    planted["one" if parts == 1 else "two"] += parts > 0
                else:
                    site_id = sites[int(school[i])].id
                    year_group = int(year[i]) + (1 if later else 0)
                    code = _code(rng)
                    if not later:
                        last.append((site_id, year_group, dict(code)))
                if rng.random() < 0.03:
                    code[str(rng.choice(list(code)))] = None
                    planted["missing"] += 1
                rid = str(uuid.uuid4())
                rows.append(
                    {
                        "id": rid,
                        "wave_id": wave.id,
                        "site_id": site_id,
                        "class_id": classes[(site_id, year_group)].id,
                        "instrument_version_id": version,
                        "channel": "class",
                        "status": "submitted",
                        "answers": {"year_group": f"year{year_group}"},
                        "submitted_at": now,
                    }
                )
                codes.append((rid, code))
            for start in range(0, len(rows), 5000):
                session.execute(insert(Response), rows[start : start + 5000])
            store_codes(session, key=key, instrument=instrument, wave_id=wave.id, codes=codes)
    engine.dispose()
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pupils", type=int, default=50_000, help="pupils per wave")
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    args = parser.parse_args()

    from sqlalchemy import select

    from analysis.linkage import link_codes
    from surveys.db import make_engine, make_sessionmaker
    from surveys.models import Wave
    from surveys.services.panel.linking import link_waves, wave_codes

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-panel-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "panel.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    started = time.perf_counter()
    planted = build(url, args.pupils)
    took = time.perf_counter() - started
    print(f"built 2 waves x {args.pupils:,} pupils with codes in {took:.1f} s")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        previous, current = session.scalars(select(Wave).order_by(Wave.id)).all()
        earlier, later = wave_codes(session, previous), wave_codes(session, current)
        t0 = time.perf_counter()
        matched = link_codes(earlier.table, later.table)
        matching = time.perf_counter() - t0
        t0, cpu = time.perf_counter(), time.process_time()
        run = link_waves(session, wave=current, previous=previous)
        session.commit()
        whole, whole_cpu = time.perf_counter() - t0, time.process_time() - cpu
        total = run.report["all"]
    engine.dispose()
    linked = total["exact"] + total["fuzzy1"] + total["fuzzy2"]
    returning = planted["returning"]
    print(f"matching alone (link_codes): {matching:.2f} s")
    print(
        f"link_waves (read codes, match, store links and report): {whole:.2f} s"
        f" ({whole_cpu:.2f} s of CPU in this process)  (budget < 10 s)"
    )
    print(
        f"links {linked:,} ({len(matched.links):,} in memory): exact {total['exact']:,},"
        f" one difference {total['fuzzy1']:,}, two {total['fuzzy2']:,};"
        f" ambiguous {total['ambiguous']:,}, unmatched {total['unmatched']:,},"
        f" incomplete {total['incomplete']:,}"
    )
    print(
        f"planted: {returning:,} returning pupils ({planted['one']:,} codes with one error,"
        f" {planted['two']:,} with two), {planted['missing']:,} codes with a part skipped;"
        f" exact-match rate {100 * total['exact'] / max(returning, 1):.0f}%,"
        f" with one or two differences {100 * linked / max(returning, 1):.0f}%"
    )


if __name__ == "__main__":
    main()

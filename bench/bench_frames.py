"""Benchmark: loading a wave's responses into a DataFrame, and importing a responses CSV.

Builds SQLite databases of 10,000 and 100,000 pupil responses (every pupil_perception
question answered or skipped at random) with bulk inserts, then, each in a fresh process
so memory figures are not mixed up, times ``surveys.frames.load_responses`` and reports its
peak memory (tracemalloc peak, which numpy and pandas allocations report to, and the
growth of the process's peak RSS). Then times ``placevoice responses import`` of a
10,000-row CSV, and a re-import of the same file (which stores nothing).

    .venv/bin/python bench/bench_frames.py [--sizes 10000 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_SCHOOLS = 40


def _answers(instrument: object, rng: random.Random) -> dict[str, object]:
    from instruments.model import Instrument

    assert isinstance(instrument, Instrument)
    out: dict[str, object] = {}
    for item in instrument.answerable_items:
        if rng.random() < 0.08:
            continue  # skipped
        if item.type == "select_one":
            out[item.name] = rng.choice(item.choice_names)
        elif item.type == "select_multiple":
            names = [n for n in item.choice_names if n != "none"]
            out[item.name] = rng.sample(names, rng.randint(1, 3))
        elif item.type == "text":
            out[item.name] = rng.choice(["more parks", "safer roads", "a youth club"])
        elif item.type in ("integer", "decimal", "range"):
            out[item.name] = rng.randint(0, 10)
    return out


def build(path: Path, n: int, seed: int = 1) -> None:
    """A migrated SQLite database with ``n`` submitted pupil responses in one wave."""
    from sqlalchemy import insert

    from surveys.db import make_engine, make_sessionmaker, migrate
    from surveys.models import Response, Site
    from surveys.services import (
        create_wave,
        ensure_builtin_instruments,
        get_or_create_community,
        instrument_of,
        latest_instrument_version,
    )

    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    rng = random.Random(seed)
    with make_sessionmaker(engine)() as session:
        community = get_or_create_community(session, slug="bench", name="Bench")
        ensure_builtin_instruments(session)
        sites = [
            Site(community=community, code=f"S{i:03d}", name=f"School {i}", kind="school")
            for i in range(N_SCHOOLS)
        ]
        session.add_all(sites)
        wave = create_wave(
            session, community=community, name="Bench wave", instrument_ids=["pupil_perception"]
        )
        session.flush()
        version = latest_instrument_version(session, "pupil_perception")
        instrument = instrument_of(version)
        rows = []
        for _ in range(n):
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "wave_id": wave.id,
                    "site_id": rng.choice(sites).id,
                    "instrument_version_id": version.id,
                    "channel": "class",
                    "status": "submitted",
                    "answers": _answers(instrument, rng),
                    "content_hash": "",
                }
            )
            if len(rows) == 10_000:
                session.execute(insert(Response), rows)
                rows = []
        if rows:
            session.execute(insert(Response), rows)
        session.commit()
    engine.dispose()


def measure(path: Path) -> dict[str, float]:
    """Time and memory of one load_responses call (run in a fresh process)."""
    from sqlalchemy import select

    from surveys.db import make_engine, make_sessionmaker
    from surveys.frames import load_responses
    from surveys.models import Wave

    engine = make_engine(f"sqlite:///{path}")
    with make_sessionmaker(engine)() as session:
        wave = session.scalar(select(Wave))
        assert wave is not None
        load_responses(session, wave=wave, instrument_id="pupil_perception").head(0)  # warm
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        timings, cpu_times = [], []
        for _ in range(3):  # best of three, untraced (tracing slows allocation down)
            started, cpu = time.perf_counter(), time.process_time()
            frame = load_responses(session, wave=wave, instrument_id="pupil_perception")
            timings.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu)
            del frame
        seconds = min(timings)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        frame = load_responses(session, wave=wave, instrument_id="pupil_perception")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = frame.memory_usage(deep=True).sum()
    return {
        "rows": float(len(frame)),
        "columns": float(frame.shape[1]),
        "seconds": seconds,
        "cpu_seconds": min(cpu_times),
        "peak_mb": peak / 2**20,
        "rss_growth_mb": (rss_after - rss_before) / 1024,
        "frame_mb": size / 2**20,
    }


def import_csv(directory: Path, n: int = 10_000) -> tuple[float, float, int]:
    """Seconds to import an n-row CSV through the CLI, and to re-import it."""
    from click.testing import CliRunner

    from webapp.cli import cli

    db = directory / "import.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    build(db, 0)
    from surveys.db import make_engine, make_sessionmaker
    from surveys.services import instrument_of, latest_instrument_version

    engine = make_engine(f"sqlite:///{db}")
    with make_sessionmaker(engine)() as session:
        instrument = instrument_of(latest_instrument_version(session, "pupil_perception"))
    engine.dispose()
    rng = random.Random(2)
    names = [i.name for i in instrument.answerable_items]
    path = directory / "pupils.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["site", *names])
        for _ in range(n):
            answers = _answers(instrument, rng)
            cells = []
            for name in names:
                value = answers.get(name, "")
                cells.append(" ".join(value) if isinstance(value, list) else value)
            # keep the activities rule (none alone) and its follow-up consistent
            writer.writerow([f"S{rng.randrange(N_SCHOOLS):03d}", *cells])
    runner = CliRunner()
    env = {"PLACEVOICE_DATABASE_URL": f"sqlite:///{db}"}
    args = ["responses", "import", str(path), "--instrument", "pupil_perception"]
    args += ["--wave", "Bench wave", "--skip-bad"]
    started = time.process_time()
    first = runner.invoke(cli, args, env=env, catch_exceptions=False)
    first_s = time.process_time() - started
    started = time.process_time()
    second = runner.invoke(cli, args, env=env, catch_exceptions=False)
    second_s = time.process_time() - started
    assert first.exit_code == 0, first.output
    assert "0 added" in second.stdout, second.output
    added = int(first.stdout.split("responses: ")[1].split(" added")[0])
    return first_s, second_s, added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, default=None, help="Keep the databases here.")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        print("load_responses (pupil_perception, one wave, SQLite):")
        results = {}
        for n in args.sizes:
            db = directory / f"frames_{n}.db"
            if not db.exists():
                started = time.perf_counter()
                build(db, n)
                print(f"  built {n:>7,} responses in {time.perf_counter() - started:5.1f} s")
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(db)],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results[n] = result
            print(
                f"  {n:>7,} responses x {int(result['columns'])} columns:"
                f" {result['seconds']:6.2f} s ({result['cpu_seconds']:.2f} s CPU),"
                f" peak {result['peak_mb']:7.1f} MB traced"
                f" (RSS +{result['rss_growth_mb']:.0f} MB), frame {result['frame_mb']:.1f} MB"
            )
        if len(results) > 1:
            small, large = min(results), max(results)
            ratio = large / small
            print(
                f"  growth x{ratio:.0f} responses: time x"
                f"{results[large]['seconds'] / results[small]['seconds']:.1f},"
                f" peak memory x{results[large]['peak_mb'] / results[small]['peak_mb']:.1f}"
            )
        first, second, added = import_csv(directory)
        print("placevoice responses import (10,000-row CSV, all questions; CPU seconds):")
        print(f"  first import: {first:5.2f} s ({added:,} stored)")
        print(f"  re-import of the same file (nothing stored): {second:5.2f} s")
        print(f"  (machine load average while measuring: {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

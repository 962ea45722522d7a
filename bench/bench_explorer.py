"""Benchmark: an explorer page's server time on the demo community.

Budget: a page of 40 questions x 4 groups under 150 ms median server time.

Builds the demo in a temporary SQLite database, signs an admin in, and times requests
through the WSGI app (Flask's test client: the server's own time, no network). The page
measured is the demo school with the most year groups, broken down by year group; the
script prints its size (questions x groups) beside the figures, then the same for the
other pages and files of the explorer. The wave's analysis is computed once and cached
by the app (as in production); the first request's time is printed separately.

    .venv/bin/python bench/bench_explorer.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from surveys.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from surveys.demo import CURRENT_WAVE, build_demo  # noqa: E402
from surveys.models import Community, Wave  # noqa: E402
from surveys.services import create_user  # noqa: E402

BUDGET_MS = 150.0
PASSWORD = "bench-explorer-password"  # noqa: S105 - a throwaway account in a temporary database


def _time(client: Any, url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        reply = client.get(url)
        reply.get_data()
        times.append((time.perf_counter() - started) * 1000)
        assert reply.status_code == 200, (url, reply.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-explorer-"))
    try:
        url = f"sqlite:///{tmp / 'demo.db'}"
        engine = make_engine(url)
        migrate(engine)
        with make_sessionmaker(engine)() as session, session.begin():
            build_demo(session)
            community = session.scalars(select(Community)).one()
            create_user(
                session,
                community=community,
                email="bench@example.org",
                password=PASSWORD,
                role="admin",
            )
            wave_id = session.scalars(select(Wave.id).where(Wave.name == CURRENT_WAVE.name)).one()
        engine.dispose()

        from webapp import create_app

        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-" + "k" * 40,
                "SESSION_COOKIE_SECURE": False,
                "WTF_CSRF_ENABLED": False,
                "PACKS_DIR": str(tmp / "packs"),
            }
        )
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": PASSWORD})
        from exports.explore import explorer_table
        from webapp.results.data import wave_contexts

        started = time.perf_counter()
        first = client.get(f"/explore/{wave_id}/S01")
        cold_ms = (time.perf_counter() - started) * 1000
        assert first.status_code == 200
        with app.app_context():
            from webapp.database import db_session

            contexts, _ = wave_contexts(db_session(), db_session().get(Wave, wave_id))
        schools = [c for c in contexts if c["kind"] == "school"]
        widest = max(schools, key=lambda c: len(explorer_table(c, breakdown="year_group").columns))
        table = explorer_table(widest, breakdown="year_group")
        page = f"/explore/{wave_id}/{widest['site']}?view=year_group"
        print(f"demo: {len(schools)} schools; first request (analyses the wave): {cold_ms:.0f} ms")
        print(
            f"measured page: {widest['site_name']} by year group, {len(table.rows)} questions"
            f" x {len(table.columns)} groups"
        )
        rows = [
            ("page, by year group", page),
            ("page, overall", f"/explore/{wave_id}/{widest['site']}"),
            ("page, whole community + map", f"/explore/{wave_id}/community"),
            (
                "table.csv, by year group",
                f"/explore/{wave_id}/{widest['site']}/table.csv?view=year_group",
            ),
            (
                "table.xlsx, by year group",
                f"/explore/{wave_id}/{widest['site']}/table.xlsx?view=year_group",
            ),
            (
                "chart.svg, by year group",
                f"/explore/{wave_id}/{widest['site']}/chart.svg?view=year_group",
            ),
            (
                "chart.png, by year group",
                f"/explore/{wave_id}/{widest['site']}/chart.png?view=year_group",
            ),
        ]
        print(f"\n{'request':32} {'median ms':>10} {'p90 ms':>8}  ({args.repeat} runs each)")
        results = {}
        for label, url_path in rows:
            repeat = args.repeat if "png" not in label else max(5, args.repeat // 5)
            times = sorted(_time(client, url_path, repeat))
            results[label] = statistics.median(times)
            p90 = times[int(0.9 * (len(times) - 1))]
            print(f"{label:32} {results[label]:10.1f} {p90:8.1f}")
        verdict = "met" if results["page, by year group"] < BUDGET_MS else "NOT met"
        print(f"\nbudget: explorer page < {BUDGET_MS:.0f} ms median: {verdict}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

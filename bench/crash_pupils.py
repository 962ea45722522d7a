"""Crash test: the server is killed with SIGKILL again and again while pupils submit.

``placevoice serve`` (gunicorn, several workers) runs on a SQLite file. Pupils take the
whole survey page by page (``bench/pupil_client.py``), retrying any request that gets no
answer or a 502/503/504, as a browser's user pressing "try again" would. Meanwhile the
server's whole process group is killed with SIGKILL ``--kills`` times at random moments
and restarted each time. Afterwards:

* every acknowledged submission is in the database (lost = 0);
* no pupil's answers are stored twice: submitted rows == acknowledged submissions
  (duplicated = 0), although clients re-sent requests whose answer was lost;
* ``PRAGMA integrity_check`` is ``ok`` (SQLite) and no half-written response exists
  (every submitted response has its answers and submission time).

    .venv/bin/python bench/crash_pupils.py [--pupils 300] [--kills 8] [--workers 3]
        [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_pupils import (
    DEFAULT_POSTGRES,
    drop_postgres_scratch,
    postgres_scratch,
    run_pupils,
)
from pupil_client import (
    Outcome,
    free_port,
    kill_server,
    percentile,
    set_up,
    start_server,
    stored_ids,
)


def checks(db_url: str) -> dict[str, object]:
    """Integrity of the database after the crashes."""
    from sqlalchemy import func, or_, select

    from surveys.db import make_engine
    from surveys.models import Response

    engine = make_engine(db_url)
    with engine.connect() as conn:
        integrity = "n/a (PostgreSQL)"
        if engine.url.get_backend_name() == "sqlite":
            integrity = str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())
        half = conn.execute(
            select(func.count(Response.id)).where(
                Response.status == "submitted",
                or_(Response.submitted_at.is_(None), Response.content_hash == ""),
            )
        ).scalar()
        drafts = conn.execute(
            select(func.count(Response.id)).where(Response.status == "draft")
        ).scalar()
    engine.dispose()
    return {"integrity_check": integrity, "half_written": half, "orphan_drafts": drafts}


def crash_run(db_url: str, options: argparse.Namespace) -> int:
    codes = set_up(db_url, schools=5, classes=20, pupils_per_class=30)
    port = free_port()
    state: dict[str, object] = {
        "server": start_server(db_url, port, workers=options.workers, threads=options.threads)
    }
    done = threading.Event()
    kills: list[float] = []
    restart_s: list[float] = []

    def killer() -> None:
        rng = random.Random(options.seed)
        time.sleep(rng.uniform(1.0, 2.0))
        while len(kills) < options.kills and not done.is_set():
            kill_server(state["server"])  # type: ignore[arg-type]
            kills.append(time.time())
            started = time.perf_counter()
            state["server"] = start_server(
                db_url, port, workers=options.workers, threads=options.threads
            )
            restart_s.append(time.perf_counter() - started)
            done.wait(rng.uniform(options.min_gap, options.max_gap))

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    outcomes: list[Outcome]
    try:
        outcomes, seconds = run_pupils(
            port, codes, options.pupils, options.clients, retry=True, budget=options.time_limit
        )
    finally:
        done.set()
        thread.join(timeout=120)
        kill_server(state["server"])  # type: ignore[arg-type]
    acked = {o.rid for o in outcomes if o.acknowledged}
    stored, rows = stored_ids(db_url)
    gave_up = [o for o in outcomes if not o.acknowledged]
    figures: dict[str, object] = {
        "pupils": len(outcomes),
        "kills (SIGKILL)": len(kills),
        "restart_s_median": round(percentile(restart_s, 0.5), 2),
        "acknowledged": len(acked),
        "stored": rows,
        "lost": len(acked - stored),
        "duplicated": len(stored - acked),
        "gave_up": len(gave_up),
        "client_retries": sum(o.retries for o in outcomes),
        "seconds": round(seconds, 1),
        "p95_ms": round(percentile([t for o in outcomes for t in o.latencies], 0.95) * 1000, 1),
        **checks(db_url),
    }
    print(f"\n== crash test on {db_url.split(':', 1)[0]} ==")
    for key, value in figures.items():
        print(f"  {key:>18}: {value}")
    for message in sorted({o.error for o in gave_up if o.error})[:10]:
        print(f"  gave up: {message}")
    ok = (
        figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["half_written"] == 0
        and figures["integrity_check"] in ("ok", "n/a (PostgreSQL)")
        and len(kills) == options.kills
        and not gave_up
    )
    print("\nresult:", "ok" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=300)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument(
        "--min-gap", type=float, default=1.5, help="seconds between kills, at least"
    )
    parser.add_argument("--max-gap", type=float, default=4.0, help="seconds between kills, at most")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    options = parser.parse_args()
    if options.backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return crash_run(f"sqlite:///{tmp}/crash.db", options)
    base = os.environ.get("PLACEVOICE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    url = postgres_scratch(base)
    try:
        return crash_run(url, options)
    finally:
        drop_postgres_scratch(base)


if __name__ == "__main__":
    raise SystemExit(main())

"""Pupil page and submit benchmarks (DESIGN.md section 8).

Prints:

1. a question page's server time (median over many requests, in-process through the
   WSGI app, no network) and bytes transferred (the page, and the page plus its CSS and
   JS on a first visit);
2. end-to-end submit throughput: N pupils' drafts are submitted concurrently to the
   product under gunicorn, and the same number of POSTs go to a bare Flask endpoint under
   gunicorn with the same settings, in the same run; the ratio is the figure the budget
   sets (>= 50%). It also checks that every submission was stored exactly once, and
   prints the server CPU each request took (from /proc, where there is one).

Usage: .venv/bin/python bench/bench_pages.py [--pupils 1500] [--concurrency 32]
       [--workers N] [--threads N] [--requests 300]

``--workers`` and ``--threads`` default to what ``placevoice serve`` uses.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pupil_client  # noqa: E402 - a sibling script, found through sys.path

BARE_APP = """
import os
import sqlite3
import threading

from flask import Flask, request
app = Flask(__name__)
_local = threading.local()

@app.post("/submit")
def submit():
    token = request.form.get("draft_token", "")
    return "<!doctype html><p>ok " + str(len(token)) + "</p>", 200


@app.post("/submit_db")
def submit_db():
    token = request.form.get("draft_token", "")
    if not hasattr(_local, "db"):
        _local.db = sqlite3.connect(os.environ["BARE_DB"], timeout=30, isolation_level=None)
        _local.db.execute("PRAGMA journal_mode=WAL")
        _local.db.execute("PRAGMA synchronous=NORMAL")
        _local.db.execute("CREATE TABLE IF NOT EXISTS t (token TEXT)")
    _local.db.execute("BEGIN IMMEDIATE")
    _local.db.execute("INSERT INTO t VALUES (?)", (token,))
    _local.db.execute("COMMIT")
    return "<!doctype html><p>ok " + str(len(token)) + "</p>", 200
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def set_up(db_url: str) -> tuple[str, str]:
    """A community with an open wave, one school and class; its class code and a page key."""
    (code,) = pupil_client.set_up(db_url, schools=1, classes=1, pupils_per_class=30)
    return code, "happiness"


def page_figures(db_url: str, code: str, key: str, requests: int) -> dict[str, float]:
    """Median server time and bytes of a question page, in-process."""
    from webapp import create_app

    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SESSION_COOKIE_SECURE": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = app.test_client()
    reply = client.post("/start", data={"code": code})
    rid = reply.headers["Location"].split("/")[2]
    url = f"/s/{rid}/q/{key}"
    for _ in range(20):  # warm up: templates compiled, instrument parsed
        client.get(url)
    times = []
    body = b""
    headers = 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        body = response.data
        headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    assert response.status_code == 200, response.status_code
    assets = sum(len(client.get(f"/static/{name}").data) for name in ("site.css", "take.js"))
    app.extensions["placevoice.engine"].dispose()
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": sorted(times)[int(len(times) * 0.95)] * 1000,
        "page_bytes": len(body) + headers,
        "first_visit_bytes": len(body) + headers + assets,
    }


def gunicorn(
    app_spec: str, port: int, workers: int, threads: int, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start gunicorn with the settings ``placevoice serve`` uses."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        app_spec,
    ]
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env})
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn did not start on port {port}")


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, body: str = "", cookie: str = ""
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def start_pupil(port: int, code: str) -> tuple[str, str]:
    """A pupil starts (code entry), answers one page; returns (response id, form token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    _, headers, page = _request(conn, "GET", "/start")
    cookie = headers["set-cookie"].split(";")[0]
    csrf = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert csrf
    body = urlencode({"code": code, "csrf_token": csrf.group(1).decode()})
    status, headers, _ = _request(conn, "POST", "/start", body, cookie=cookie)
    assert status == 302, status
    if "set-cookie" in headers:
        cookie = headers["set-cookie"].split(";")[0]
    rid = headers["location"].split("/")[2]
    _, _, page = _request(conn, "GET", f"/s/{rid}/intro", cookie=cookie)
    match = re.search(rb'name="draft_token" value="([0-9a-f]+)"', page)
    assert match
    token = match.group(1).decode()
    body = urlencode({"draft_token": token, "year_group": "year6", "gender": "girl"})
    status, _, _ = _request(conn, "POST", f"/s/{rid}/q/about_you", body, cookie=cookie)
    assert status == 302, status
    conn.close()
    return rid, token


def server_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by gunicorn ``pid`` and its workers.

    Read from /proc (Linux); None where there is no /proc.
    """
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _fire(port: int, jobs: list[tuple[str, str]], threads: int) -> int:
    """POST each (path, body), ``threads`` keep-alive connections; returns successes."""

    def run(chunk: list[tuple[str, str]]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        ok = 0
        for path, body in chunk:
            status, _, _ = _request(conn, "POST", path, body)
            ok += status in (200, 302)
        conn.close()
        return ok

    chunks = [jobs[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(pool.map(run, [c for c in chunks if c]))


def throughput(port: int, jobs: list[tuple[str, str]], concurrency: int) -> tuple[float, int]:
    """Requests per second for ``jobs`` spread over client processes; and successes."""
    processes = min(4, concurrency)
    per_process = max(1, concurrency // processes)
    slices = [jobs[i::processes] for i in range(processes)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        started = time.perf_counter()
        ok = sum(pool.map(_fire, [port] * processes, slices, [per_process] * processes))
        elapsed = time.perf_counter() - started
    return len(jobs) / elapsed, ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pupils", type=int, default=1500)  # a steadier measurement window
    parser.add_argument("--concurrency", type=int, default=32)
    from webapp.cli.serve import DEFAULT_THREADS, default_workers

    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        db_url = f"sqlite:///{tmp_path / 'bench.db'}"
        code, key = set_up(db_url)

        figures = page_figures(db_url, code, key, args.requests)
        print(f"question page '{key}' (5 questions, 55 answer options), in-process:")
        print(f"  server time median {figures['median_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms")
        print(
            f"  {figures['page_bytes'] / 1024:.1f} KB page (body + headers);"
            f" {figures['first_visit_bytes'] / 1024:.1f} KB with site.css and take.js"
        )

        (tmp_path / "bare.py").write_text(BARE_APP)
        secret = secrets.token_urlsafe(48)
        env = {
            "PLACEVOICE_DATABASE_URL": db_url,
            "PLACEVOICE_SECRET_KEY": secret,
            "PLACEVOICE_SESSION_COOKIE_SECURE": "false",
            "PYTHONPATH": str(ROOT),
            "BARE_DB": str(tmp_path / "bare.db"),
        }
        product_port, bare_port = free_port(), free_port()
        product = gunicorn(
            "webapp:create_app()", product_port, args.workers, args.threads, ROOT, env
        )
        bare = gunicorn("bare:app", bare_port, args.workers, args.threads, tmp_path, env)
        try:
            with ThreadPoolExecutor(max_workers=16) as pool:
                pupils = list(
                    pool.map(lambda _: start_pupil(product_port, code), range(args.pupils))
                )
            submit_jobs = [
                (f"/s/{rid}/submit", urlencode({"draft_token": token})) for rid, token in pupils
            ]
            bare_jobs = [("/submit", body) for _, body in submit_jobs]
            throughput(bare_port, bare_jobs[: min(50, len(bare_jobs))], args.concurrency)  # warm
            bare_cpu = server_cpu(bare.pid)
            bare_rate, bare_ok = throughput(bare_port, bare_jobs, args.concurrency)
            bare_cpu_after = server_cpu(bare.pid)
            db_jobs = [("/submit_db", body) for _, body in submit_jobs]
            bare_db_rate, _ = throughput(bare_port, db_jobs, args.concurrency)
            product_cpu = server_cpu(product.pid)
            product_rate, product_ok = throughput(product_port, submit_jobs, args.concurrency)
            product_cpu_after = server_cpu(product.pid)
            # resubmitting everything (the back button, a retry) must store nothing new
            throughput(product_port, submit_jobs[: args.pupils // 4], args.concurrency)
        finally:
            for process in (product, bare):
                process.terminate()
                process.wait(timeout=30)

        from sqlalchemy import func, select

        from surveys.db import make_engine
        from surveys.models import Response

        engine = make_engine(db_url)
        with engine.connect() as conn:
            submitted = conn.scalar(
                select(func.count(Response.id)).where(Response.status == "submitted")
            )
            total = conn.scalar(select(func.count(Response.id)))
        engine.dispose()

    print(
        f"submit throughput, {args.pupils} pupils, {args.concurrency} concurrent clients,"
        f" gunicorn {args.workers} workers x {args.threads} threads, SQLite:"
    )
    print(f"  product submit  {product_rate:8.1f} /s  ({product_ok} ok)")
    print(f"  bare Flask POST {bare_rate:8.1f} /s  ({bare_ok} ok)")
    print(f"  bare Flask POST + one SQLite write {bare_db_rate:8.1f} /s")
    print(f"  ratio {100 * product_rate / bare_rate:.0f}% of the bare endpoint (budget >= 50%)")
    cpu = (product_cpu, product_cpu_after, bare_cpu, bare_cpu_after)
    if all(value is not None for value in cpu):
        before_p, after_p, before_b, after_b = (float(v or 0) for v in cpu)
        per = 1000 / args.pupils
        print(
            f"  server CPU per request (gunicorn and its workers): submit"
            f" {(after_p - before_p) * per:.2f} ms, bare POST {(after_b - before_b) * per:.2f} ms"
        )
    print(
        f"  ratio {100 * product_rate / bare_db_rate:.0f}% of the bare endpoint with the same write"
    )
    # one extra draft comes from the in-process page measurement
    drafts = (total or 0) - (submitted or 0)
    print(
        f"  stored: {submitted} submitted of {args.pupils} pupils (+{drafts} open draft);"
        f" lost {args.pupils - (submitted or 0)}; {args.pupils // 4} resubmits stored nothing new"
    )


if __name__ == "__main__":
    main()

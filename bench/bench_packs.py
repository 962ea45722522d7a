"""Benchmark: feedback packs through the task queue against WeasyPrint alone, and a batch.

    .venv/bin/python bench/bench_packs.py [--schools 200] [--workers 2] [--sample 8]

1. Builds a city-region-sized wave in a temporary SQLite database: ``--schools``
   schools of 30-250 pupils (the built-in pupil survey, a previous wave for trends).
2. Per-pack ratio (budget <= 1.0): for ``--sample`` schools, the time a warm queue worker
   takes for one pack task, from taking it off the queue (Huey on SQLite, as ``placevoice
   serve`` runs it) to its item and run rows updated (unpickling the pack's figures, HTML
   + charts, PDF, atomic write, two transactions), against WeasyPrint alone rendering the
   same final HTML with the same stylesheet and options
   (``HTML(string=html).write_pdf(stylesheets=[CSS(pack.css)], **PDF_OPTIONS)``), median of
   3 runs each, CPU time of this process (the machine may be shared). The same pack
   rendered in-process (``render_pack``, what ``placevoice packs`` does) is printed beside
   it, so the queue's own cost shows.
3. The batch: a "generate all packs" run of the whole wave carried out by a real
   ``placevoice worker --workers N`` on the SQLite queue: wall time from queueing to the run
   marked done (target < 90 s for 200 packs with 2 workers), and the workers' CPU time and
   peak memory.

Prints its figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sqlalchemy import select, update

from exports.pack_runs import PackQueue, cancel_run, start_run
from exports.packs import build_contexts, pack_filename, render_pack
from exports.queue import make_huey
from exports.render import PDF_OPTIONS, pack_html, renderer
from surveys.db import make_engine, make_sessionmaker, migrate
from surveys.models import Wave
from surveys.models.packs import PackRun, PackRunItem
from tests.exports.community import WAVE, build_community


def build(url: str, schools: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(30, 251, size=schools)
    spec = [(f"S{i:03d}", f"School {i:03d}", int(n)) for i, n in enumerate(sizes, start=1)]
    engine = make_engine(url)
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        build_community(session, schools=spec, areas=(), seed=seed)
    engine.dispose()
    return int(sizes.sum())


def cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def queue_a_run(factory, wave_id: int, out: Path) -> int:
    with factory() as session:
        wave = session.get_one(Wave, wave_id)
        run = start_run(session, wave=wave, actor=None, out_dir=out)
        session.commit()
        return run.id


def per_pack(args, url: str, tmp: str, factory, wave: Wave, contexts) -> None:
    from pypdf import PdfReader
    from weasyprint import CSS, HTML

    css_path = Path(__file__).resolve().parents[1] / "exports" / "templates" / "pack.css"
    queue = PackQueue(make_huey(f"sqlite:///{tmp}/sample-queue.db"), url)
    out = Path(tmp) / "sample"
    run_id = queue_a_run(factory, wave.id, out)
    queue.enqueue(run_id)
    queue.huey.execute(queue.huey.dequeue())  # schedule_run: items made, pack tasks queued
    queue.huey.flush()  # this part times the tasks of the sample only
    renderer()  # a warm worker: fonts and stylesheet loaded
    sample = contexts[:: max(1, len(contexts) // args.sample)][: args.sample]
    rows = []
    for context in sample:
        site = context["site"]
        path = out / pack_filename(wave.name, site)
        html = pack_html(context)

        def task_once(ctx=context, site=site, path=path) -> float:
            with factory.begin() as session:  # the pack is to be made again (not timed)
                session.execute(
                    update(PackRunItem)
                    .where(PackRunItem.run_id == run_id, PackRunItem.site == site)
                    .values(status="queued")
                )
                session.execute(update(PackRun).where(PackRun.id == run_id).values(done=0))
            queue.render_site(run_id, site, ctx, str(path))
            return cpu(lambda: queue.huey.execute(queue.huey.dequeue()))

        def alone_once(text=html) -> None:
            HTML(string=text).write_pdf(stylesheets=[CSS(filename=str(css_path))], **PDF_OPTIONS)

        task = statistics.median(task_once() for _ in range(3))

        def inproc_once(ctx=context, path=path) -> None:
            render_pack(ctx, str(path))

        def html_once(ctx=context) -> None:
            pack_html(ctx)

        inproc = statistics.median(cpu(inproc_once) for _ in range(3))
        alone = statistics.median(cpu(alone_once) for _ in range(3))
        html_cpu = statistics.median(cpu(html_once) for _ in range(3))
        rows.append((task, inproc, alone, html_cpu, len(PdfReader(path).pages)))
    queue.dispose()
    with factory() as session:  # the sample run is over: the batch starts a run of its own
        cancel_run(session, session.get_one(PackRun, run_id))
        session.commit()
    task_all, inproc_all, alone_all, html_all, pages = zip(*rows, strict=True)
    task_ratio = [t / a for t, a in zip(task_all, alone_all, strict=True)]
    inproc_ratio = [t / a for t, a in zip(inproc_all, alone_all, strict=True)]
    print(
        f"per pack ({len(sample)} schools, {min(pages)}-{max(pages)} pages):"
        f" queue task {statistics.median(task_all):.3f} s,"
        f" in-process render_pack {statistics.median(inproc_all):.3f} s,"
        f" WeasyPrint alone {statistics.median(alone_all):.3f} s,"
        f" HTML + charts {1000 * statistics.median(html_all):.1f} ms"
    )
    print(
        f"ratio to WeasyPrint alone: queue task median {statistics.median(task_ratio):.2f},"
        f" max {max(task_ratio):.2f}; in-process median {statistics.median(inproc_ratio):.2f},"
        f" max {max(inproc_ratio):.2f} (budget <= 1.0)"
    )


def batch(args, url: str, tmp: str, factory, wave: Wave, expected: int) -> None:
    queue_url = f"sqlite:///{tmp}/queue.db"
    env = {**os.environ, "PLACEVOICE_DATABASE_URL": url, "PLACEVOICE_QUEUE_URL": queue_url}
    log = open(Path(tmp) / "worker.log", "wb")
    root = Path(__file__).resolve().parents[1]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "worker", "--workers", str(args.workers)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while b"placevoice worker:" not in (Path(tmp) / "worker.log").read_bytes():
            time.sleep(0.05)  # the consumer is up (its start is not the run's time)
        out = Path(tmp) / "packs"
        run_id = queue_a_run(factory, wave.id, out)
        queue = PackQueue(make_huey(queue_url), url)
        started = time.perf_counter()
        queue.enqueue(run_id)
        while True:
            with factory() as session:
                run = session.get_one(PackRun, run_id)
                if run.status not in ("queued", "running"):
                    break
            time.sleep(0.1)
        wall = time.perf_counter() - started
        worker.send_signal(signal.SIGINT)
        worker.wait(60)
    finally:  # never leave the worker and its processes behind
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(
        f"batch: {run.written} of {expected} packs ({len(run.failed_sites)} failed, run"
        f" {run.status}) through the queue with {args.workers} workers in {wall:.1f} s"
        f" (target < 90 s for 200 with 2 workers)"
    )
    print(
        f"workers: CPU {worker_cpu:.1f} s ({worker_cpu / max(1, run.written):.2f} s a pack,"
        f" including analysing the wave once), peak memory (max RSS) {after.ru_maxrss / 1024:.0f}"
        f" MB; on {args.workers} otherwise idle cores the batch would take about"
        f" {worker_cpu / args.workers:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-batch", action="store_true", help="only the per-pack ratio")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        pupils = build(url, args.schools, args.seed)
        took = time.perf_counter() - started
        print(f"built {args.schools} schools, {pupils} pupils in {took:.1f} s")

        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with factory() as session:
            wave = session.scalar(select(Wave).where(Wave.name == WAVE))
            started = time.perf_counter()
            contexts, _ = build_contexts(session, wave)
            print(f"analysis of the whole wave (once): {time.perf_counter() - started:.2f} s")
            session.expunge(wave)
        per_pack(args, url, tmp, factory, wave, contexts)
        if not args.no_batch:
            batch(args, url, tmp, factory, wave, len(contexts))
        engine.dispose()
        print(f"cores: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

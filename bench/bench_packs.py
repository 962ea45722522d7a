"""Benchmark: feedback packs against WeasyPrint alone, and 200 packs with --jobs 2.

    .venv/bin/python bench/bench_packs.py [--schools 200] [--jobs 2] [--sample 8]

1. Builds a city-region-sized wave in a temporary SQLite database: ``--schools``
   schools of 30-250 pupils (the built-in pupil survey, a previous wave for trends).
2. Per-pack ratio (target <= 1.0): for ``--sample`` schools, the time
   placevoice takes for one pack (HTML + charts + PDF + atomic write, in a warm worker)
   against WeasyPrint alone rendering the same final HTML with the same stylesheet and
   options (``HTML(string=html).write_pdf(stylesheets=[CSS(pack.css)], **PDF_OPTIONS)``),
   median of 3 runs each, CPU time of this process (the machine may be shared).
3. The batch: ``generate_packs(jobs=2)`` (what ``placevoice packs --jobs 2`` runs) over
   the whole wave: wall time (target < 60 s for 200 packs), the parent's analysis time,
   and peak memory (max RSS) of each worker.

Prints its figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from exports.packs import build_contexts, generate_packs, render_pack
from exports.render import PDF_OPTIONS, pack_html, renderer
from surveys.db import make_engine, make_sessionmaker, migrate
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    from weasyprint import CSS, HTML

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        pupils = build(url, args.schools, args.seed)
        took = time.perf_counter() - started
        print(f"built {args.schools} schools, {pupils} pupils in {took:.1f} s")

        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            started = time.perf_counter()
            contexts, _ = build_contexts(session, WAVE)
            print(f"analysis of the whole wave (once): {time.perf_counter() - started:.2f} s")
        engine.dispose()

        # --- per pack: placevoice vs WeasyPrint alone on the same HTML -----------------
        css_path = Path(__file__).resolve().parents[1] / "exports" / "templates" / "pack.css"
        renderer()  # a warm worker: fonts and stylesheet loaded
        sample = contexts[:: max(1, len(contexts) // args.sample)][: args.sample]
        ratios, ours_all, alone_all, html_all, pages = [], [], [], [], []
        for context in sample:
            out = Path(tmp) / "one.pdf"
            html = pack_html(context)

            def ours_once(ctx=context, path=out) -> None:
                render_pack(ctx, str(path))

            def alone_once(text=html) -> None:
                HTML(string=text).write_pdf(
                    stylesheets=[CSS(filename=str(css_path))], **PDF_OPTIONS
                )

            def html_once(ctx=context) -> None:
                pack_html(ctx)

            ours = statistics.median(cpu(ours_once) for _ in range(3))
            alone = statistics.median(cpu(alone_once) for _ in range(3))
            html_all.append(statistics.median(cpu(html_once) for _ in range(3)))
            ratios.append(ours / alone)
            ours_all.append(ours)
            alone_all.append(alone)
            from pypdf import PdfReader

            pages.append(len(PdfReader(out).pages))
        print(
            f"per pack ({len(sample)} schools, {min(pages)}-{max(pages)} pages): placevoice"
            f" {statistics.median(ours_all):.3f} s, WeasyPrint alone"
            f" {statistics.median(alone_all):.3f} s, HTML + charts"
            f" {1000 * statistics.median(html_all):.1f} ms"
        )
        print(
            f"ratio placevoice / WeasyPrint alone: median {statistics.median(ratios):.2f},"
            f" max {max(ratios):.2f} (target <= 1.0)"
        )

        # --- the batch ------------------------------------------------------------------
        out_dir = Path(tmp) / "packs"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = time.process_time()
        started = time.perf_counter()
        result = generate_packs(db_url=url, wave=WAVE, out_dir=out_dir, jobs=args.jobs)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        parent_cpu = time.process_time() - cpu_before
        per_worker: dict[int, float] = {}
        for timing in result.timings:
            per_worker[timing["pid"]] = max(
                per_worker.get(timing["pid"], 0.0), timing["peak_rss_mb"]
            )
        pdf = [t["pdf_seconds"] for t in result.timings]
        print(
            f"batch: {len(result.written)} packs with --jobs {args.jobs} in {wall:.1f} s"
            f" (target < 60 s for 200); {len(result.failed)} failed;"
            f" parent analysis {result.prepare_seconds:.2f} s;"
            f" PDF per pack median {statistics.median(pdf):.2f} s (wall, in a worker)"
        )
        print(
            "peak memory per worker (max RSS): "
            + ", ".join(f"{mb:.0f} MB" for mb in sorted(per_worker.values()))
        )
        print(
            f"CPU: workers {worker_cpu:.1f} s ({worker_cpu / max(1, len(result.written)):.2f} s"
            f" a pack), parent {parent_cpu:.1f} s; on {args.jobs} otherwise idle cores the batch"
            f" would take about {parent_cpu + worker_cpu / args.jobs:.0f} s"
        )
        print(f"cores: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

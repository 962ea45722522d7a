"""What the results and school pages show: the packs' own contexts, cached per wave state.

Pages show exactly what the PDF would (the same :func:`exports.packs.build_contexts`, so
the same suppression): a figure the pack hides is hidden here too. The whole wave is
analysed once and kept until a response in it changes.
"""

from __future__ import annotations

from pathlib import Path
from threading import Lock
from typing import Any

from flask import current_app
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from exports.pack_runs import PackQueue
from exports.packdata import Context
from exports.packs import build_contexts, pack_filename, render_pack
from exports.queue import make_huey, queue_url
from surveys.models import Response, Wave
from surveys.models.panel import PanelRun

__all__ = [
    "db_url",
    "pack_path",
    "pack_queue",
    "packs_dir",
    "render_site_pack",
    "wave_contexts",
    "wave_packs_dir",
]

_CACHE: dict[tuple[str, int], tuple[tuple[Any, ...], tuple[list[Context], list[Context]]]] = {}
_LOCK = Lock()


def _stamp(session: Session, wave: Wave) -> tuple[Any, ...]:
    row = session.execute(
        select(func.count(Response.id), func.max(Response.updated_at)).where(
            Response.wave_id == wave.id
        )
    ).one()
    linked = session.scalar(select(PanelRun.created_at).where(PanelRun.wave_id == wave.id))
    return (row[0], str(row[1]), str(linked))


def wave_contexts(session: Session, wave: Wave) -> tuple[list[Context], list[Context]]:
    """Every pack context of ``wave`` and the sites without a pack (cached)."""
    key = (db_url(session), wave.id)
    stamp = _stamp(session, wave)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    value = build_contexts(session, wave)
    with _LOCK:
        _CACHE[key] = (stamp, value)
    return value


def db_url(session: Session) -> str:
    """The session's database URL, with its password (for worker processes)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.url.render_as_string(hide_password=False)


def pack_queue(session: Session) -> PackQueue:
    """The task queue pack runs go to (``QUEUE_URL``; one per app and database)."""
    url = db_url(session)
    key = (queue_url(current_app.config.get("QUEUE_URL") or None, db_url=url), url)
    queues: dict[tuple[str, str], PackQueue] = current_app.extensions.setdefault(
        "placevoice_pack_queues", {}
    )
    with _LOCK:
        if key not in queues:
            queues[key] = PackQueue(make_huey(key[0]), url)
        return queues[key]


def packs_dir() -> Path:
    """Where generated packs are kept: ``PACKS_DIR``, else ``packs/`` beside the database."""
    configured = current_app.config.get("PACKS_DIR")
    if configured:
        return Path(configured)
    url = make_url(str(current_app.config.get("DATABASE_URL", "")))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / "packs"
    return Path(current_app.instance_path) / "packs"


def wave_packs_dir(wave: Wave) -> Path:
    """The folder of one wave's packs (what "generate all packs" writes into)."""
    return packs_dir() / f"wave-{wave.id}"


def pack_path(wave: Wave, site_code: str) -> Path:
    """The pack file of one site in one wave (it may not exist yet)."""
    return wave_packs_dir(wave) / pack_filename(wave.name, site_code)


def render_site_pack(session: Session, wave: Wave, site_code: str) -> Path | None:
    """Make one site's pack if it is missing; None if the site gets no pack."""
    path = pack_path(wave, site_code)
    if path.exists():
        return path
    contexts, _ = wave_contexts(session, wave)
    if not any(c["site"] == site_code for c in contexts):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    context = next(c for c in contexts if c["site"] == site_code)
    render_pack(context, str(path))
    return path

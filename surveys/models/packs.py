"""Tables for pack generation on the task queue: a row per "generate all packs" run and per pack.

A run is made by the web app and carried out by the task queue (:mod:`exports.pack_runs`),
one task per pack and one :class:`PackRunItem` per pack, which report their progress
here; pages read it back. A pack task only ever moves its own item from ``queued`` to
``done`` or ``failed``, so workers on several machines can share a run's packs and a task
carried out twice (after a restart) changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.models.base import Base, utcnow
from surveys.models.community import User
from surveys.models.waves import Wave

__all__ = ["ACTIVE_STATUSES", "ITEM_STATUSES", "RUN_STATUSES", "PackRun", "PackRunItem"]

#: queued (made, the wave not analysed yet) -> running (one task per pack queued) -> done
#: (every pack finished; some sites may have failed), failed (the run itself stopped: the
#: wave could not be analysed) or cancelled (by the core team; queued packs are skipped).
RUN_STATUSES = ("queued", "running", "done", "failed", "cancelled")
#: A run in one of these states holds its wave: no second run may start.
ACTIVE_STATUSES = ("queued", "running")


class PackRun(Base):
    """One "generate all packs" of a wave, carried out by the task queue."""

    __tablename__ = "pack_runs"
    __table_args__ = (Index("ix_pack_runs_wave_id_id", "wave_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    #: The wave's id while the run is queued or running, else None. Unique, so the
    #: database itself refuses a second active run of one wave (on SQLite and PostgreSQL
    #: alike, however many app workers ask at once).
    active_wave_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    #: One of :data:`RUN_STATUSES`.
    status: Mapped[str] = mapped_column(String(10), default="queued")
    #: The folder the packs are written to (shared storage when workers run elsewhere).
    out_dir: Mapped[str] = mapped_column(Text, default="")
    #: Packs to make (known once the wave is analysed) and packs finished (made or failed).
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    #: ``[{"site": "S02", "error": "..."}, ...]`` for sites whose pack could not be made.
    failed_sites: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Sites with too few responses for a pack.
    notes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Why the run failed (never personal data: exception type and message).
    error: Mapped[str] = mapped_column(Text, default="")

    wave: Mapped[Wave] = relationship()
    user: Mapped[User | None] = relationship()


#: queued (a task will make it) -> done (the PDF is in place) or failed (with the error);
#: skipped: the site has too few responses for a pack (the detail says why).
ITEM_STATUSES = ("queued", "done", "failed", "skipped")


class PackRunItem(Base):
    """One site's pack in one pack run."""

    __tablename__ = "pack_run_items"
    __table_args__ = (UniqueConstraint("run_id", "site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("pack_runs.id", ondelete="CASCADE"))
    #: The site's code (``community`` for the whole-community report).
    site: Mapped[str] = mapped_column(String(64))
    #: One of :data:`ITEM_STATUSES`.
    status: Mapped[str] = mapped_column(String(10), default="queued")
    #: Why the pack failed or was skipped (never personal data).
    detail: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)

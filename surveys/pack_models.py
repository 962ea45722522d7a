"""Tables for pack generation in the background: one row per "generate all packs" run.

Imported at the bottom of :mod:`surveys.models` so that every table lives in one metadata.
A run is made by the web app and carried out by the task queue (:mod:`exports.pack_runs`,
one task per pack, :class:`~surveys.pack_item_models.PackRunItem` per pack), which reports
its progress here; pages read it back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.models import Base, User, Wave, utcnow

__all__ = ["ACTIVE_STATUSES", "RUN_STATUSES", "PackRun"]

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


from surveys.pack_item_models import *  # noqa: E402,F403

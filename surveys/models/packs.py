"""Tables for pack generation in the background: one row per "generate all packs" run.

A run is made by the web app and carried out by a detached process
(:mod:`exports.pack_runs`), which reports its progress here; pages read it back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.models.base import Base, utcnow
from surveys.models.community import User
from surveys.models.waves import Wave

__all__ = ["ACTIVE_STATUSES", "RUN_STATUSES", "PackRun"]

#: queued (made, process not started yet) -> running -> done (the batch finished; some
#: sites may have failed) or failed (the run itself stopped: an error, or it stopped
#: responding and was taken over by a newer run).
RUN_STATUSES = ("queued", "running", "done", "failed")
#: A run in one of these states holds its wave: no second run may start.
ACTIVE_STATUSES = ("queued", "running")


class PackRun(Base):
    """One "generate all packs" of a wave, carried out by a background process."""

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
    #: Random value handed to the process: it only ever writes to the run it was given,
    #: even if run ids are reused (a test database emptied under it, say).
    token: Mapped[str] = mapped_column(String(64))
    #: Packs to make (known once the wave is analysed) and packs finished (made or failed).
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    #: ``[{"site": "S02", "error": "..."}, ...]`` for sites whose pack could not be made.
    failed_sites: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Sites with too few responses for a pack.
    notes: Mapped[int] = mapped_column(Integer, default=0)
    #: The process carrying the run out, and the machine it runs on (a pid only means
    #: something there).
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    host: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Last sign of life: set when the process starts and each time a pack is finished.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Why the run failed (never personal data: exception type and message, or "stopped").
    error: Mapped[str] = mapped_column(Text, default="")

    wave: Mapped[Wave] = relationship()
    user: Mapped[User | None] = relationship()

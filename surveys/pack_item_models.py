"""One row per pack of a pack run: the unit of work the task queue hands to a worker.

Imported at the bottom of :mod:`surveys.pack_models`. A pack task only ever moves its own
row from ``queued`` to ``done`` or ``failed``, so workers on several machines can share a
run's packs and a task carried out twice (after a restart) changes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveys.models import Base

__all__ = ["ITEM_STATUSES", "PackRunItem"]

#: queued (a task will make it) -> done (the PDF is in place) or failed (with the error);
#: skipped: the site has too few responses for a pack (the reason is the detail).
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

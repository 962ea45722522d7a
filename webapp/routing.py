"""URL converters registered app-wide.

``<int:...>`` in every route is :class:`BoundedInt`: a non-negative integer no larger than
the 64-bit signed maximum, the widest id SQLite's and PostgreSQL's ``INTEGER``/``BIGINT``
columns hold. A longer id matches no route (404) instead of reaching the database, where
it would overflow (a 500 on SQLite, an error on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from surveys.ids import MAX_ID

__all__ = ["MAX_ID", "BoundedInt", "register_converters"]


class BoundedInt(IntegerConverter):
    """``int`` bounded to ``0..MAX_ID`` unless a route asks for a narrower range."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs["max"] = min(int(kwargs.get("max") or MAX_ID), MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_converters(url_map: Map) -> None:
    """Make ``<int:...>`` the bounded converter (before any route is added)."""
    url_map.converters["int"] = BoundedInt

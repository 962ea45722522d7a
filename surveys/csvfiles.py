"""Reading the small CSV files the core team uploads (sites, organisations, margins).

One reader, so every such file is decoded, checked and numbered the same way: UTF-8 with or
without a byte-order mark, column names matched in any case and spacing, blank rows passed
over, and rows numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from surveys.errors import ServiceError, ServiceMessage

__all__ = ["csv_rows"]


def csv_rows(
    data: bytes, *, source: str, required: Sequence[str]
) -> list[tuple[int, dict[str, str]]]:
    """The non-blank rows of a CSV file as ``(row number, {column: value})``.

    Column names are lower-cased and stripped, values stripped. Raises
    :class:`~surveys.errors.ServiceError` naming ``source`` for a file that is not UTF-8
    text, holds NUL characters or cannot be parsed, or lacks a ``required`` column.

    >>> csv_rows(b"Code , Name\\nS1, Ash \\n,\\n", source="a.csv", required=["code"])
    [(2, {'code': 'S1', 'name': 'Ash'})]
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE, source=source, detail="it is not UTF-8 text"
        ) from err
    if "\x00" in text:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE, source=source, detail="it contains NUL characters"
        )
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [(h or "").strip().lower() for h in reader.fieldnames or []]
        raw_rows = list(reader)
    except csv.Error as err:  # e.g. a field over the csv module's 128 KB limit
        raise ServiceError(ServiceMessage.CSV_UNREADABLE, source=source, detail=str(err)) from err
    missing = [c for c in required if c not in header]
    if missing:
        raise ServiceError(ServiceMessage.CSV_HEADER, source=source, columns=", ".join(missing))
    rows = []
    for number, raw in enumerate(raw_rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if any(row.values()):
            rows.append((number, row))
    return rows

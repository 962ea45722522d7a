"""Reading a responses file: a CSV (UTF-8) or an XLSX (first sheet) as a :class:`Table`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

from surveys.errors import ServiceError, ServiceMessage

__all__ = ["Table", "read_table"]


@dataclass(frozen=True)
class Table:
    """A spreadsheet's header and data rows (row numbers as the spreadsheet shows them)."""

    source: str
    header: tuple[str, ...]
    rows: list[tuple[int, tuple[str, ...]]]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes, source: str) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE, source=source, detail="it is not an Excel .xlsx file"
        ) from err
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _read_csv(data: bytes, source: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE,
            source=source,
            detail="it is not UTF-8 text (in Excel, save it as 'CSV UTF-8')",
        ) from err
    try:
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as err:
        raise ServiceError(ServiceMessage.CSV_UNREADABLE, source=source, detail=str(err)) from err


def read_table(data: bytes, *, source: str) -> Table:
    """Read a CSV (UTF-8) or an XLSX (first sheet) into a :class:`Table`.

    Blank rows are skipped; row numbers stay those of the file (the header is row 1).
    """
    is_xlsx = source.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04"
    cells = _read_xlsx(data, source) if is_xlsx else _read_csv(data, source)
    if not cells or not any(cells[0]):
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    header = list(cells[0])
    while header and not header[-1]:
        header.pop()
    width = len(header)
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, row in enumerate(cells[1:], start=2):
        if not any(row):
            continue
        padded = list(row[:width]) + [""] * (width - len(row))
        if any(row[width:]):
            padded.extend(row[width:])  # more cells than columns: reported for this row
        rows.append((number, tuple(padded)))
    if not rows:
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    return Table(source=source, header=tuple(header), rows=rows)

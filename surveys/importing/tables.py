"""Reading a responses file into grids of text: CSV, XLSX, or a zip of CSVs (ODK Central).

CSV text may be UTF-8 (with or without a BOM), UTF-16 with a BOM, or Windows-1252 (what
Excel writes as "CSV" on a UK PC); the separator is a comma, a semicolon (KoboToolbox's
default) or a tab, whichever the header row uses. Cells are stripped of surrounding spaces.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

from surveys.errors import ServiceError, ServiceMessage

__all__ = ["Grid", "Table", "read_grids"]

#: Largest zip member read (a bomb guard): 200 MB of CSV.
_MAX_MEMBER = 200 * 1024 * 1024


@dataclass(frozen=True)
class Grid:
    """One sheet or CSV file: its rows of text, numbered as the file shows them (from 1)."""

    name: str
    rows: list[tuple[int, list[str]]]


@dataclass
class Table:
    """A file read for import: its column names and data rows, after its format's rules.

    ``header`` holds each column's name as the format gives it (groups stripped, two
    header rows combined); ``labels`` the text shown to people for that column.
    """

    source: str
    header: tuple[str, ...]
    rows: list[tuple[int, tuple[str, ...]]]
    format: str = "file"
    labels: tuple[str, ...] = ()
    #: Columns the format's own tool adds and the import does not need.
    ignored: list[str] = field(default_factory=list)
    #: Rows left out by the source's own review (row number, reason).
    skipped: list[tuple[int, str]] = field(default_factory=list)
    #: Problems found while reading (row number, column, message).
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def label(self, index: int) -> str:
        """The column's name as the file shows it."""
        return self.labels[index] if index < len(self.labels) else self.header[index]


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: whole floats without '.0', dates in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _numbered(rows: list[list[str]]) -> list[tuple[int, list[str]]]:
    return [(number, row) for number, row in enumerate(rows, start=1)]


def _read_xlsx(data: bytes, source: str) -> list[Grid]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE, source=source, detail="it is not an Excel .xlsx file"
        ) from err
    try:
        return [
            Grid(
                sheet.title,
                _numbered(
                    [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
                ),
            )
            for sheet in book.worksheets
        ]
    finally:
        book.close()


def decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes, source: str, name: str) -> Grid:
    text = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    try:
        rows = [
            [c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    except csv.Error as err:
        raise ServiceError(ServiceMessage.CSV_UNREADABLE, source=source, detail=str(err)) from err
    return Grid(name, _numbered(rows))


def _read_zip(data: bytes, source: str) -> list[Grid]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE, source=source, detail="it is not a zip file"
        ) from err
    grids: list[Grid] = []
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: (len(i.filename), i.filename)):
            if info.is_dir() or not info.filename.lower().endswith(".csv"):
                continue
            if info.file_size > _MAX_MEMBER:
                raise ServiceError(
                    ServiceMessage.CSV_UNREADABLE,
                    source=source,
                    detail=f"{info.filename} is larger than {_MAX_MEMBER // 2**20} MB",
                )
            grids.append(_read_csv(archive.read(info), source, info.filename.rsplit("/", 1)[-1]))
    if not grids:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE, source=source, detail="the zip file holds no CSV file"
        )
    return grids


def read_grids(data: bytes, *, source: str) -> tuple[str, list[Grid]]:
    """The kind of file ('xlsx', 'zip' or 'csv') and its sheets or CSV files.

    Blank rows are dropped; row numbers stay those of the file.
    """
    kind = "csv"
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as err:
            raise ServiceError(
                ServiceMessage.CSV_UNREADABLE, source=source, detail="it is a broken zip file"
            ) from err
        kind = "xlsx" if "[Content_Types].xml" in names else "zip"
    elif source.lower().endswith((".xlsx", ".xlsm")):
        kind = "xlsx"
    if kind == "xlsx":
        grids = _read_xlsx(data, source)
    elif kind == "zip":
        grids = _read_zip(data, source)
    else:
        grids = [_read_csv(data, source, source)]
    cleaned = [Grid(g.name, [(n, r) for n, r in g.rows if any(r)]) for g in grids]
    if not cleaned or not cleaned[0].rows:
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    return kind, cleaned

"""XLSForm out: the stored source of an instrument version, and an .xlsx for Kobo and ODK.

Instruments are stored exactly as uploaded (``InstrumentVersion.source``). Markdown
XLSForms (the built-in format) are converted to a workbook with one sheet per table
(survey, choices, settings), which KoboToolbox and ODK Central accept as they are: the
analysis columns (domain, scale, positive...) travel along as extra columns, which
pyxform ignores.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pyxform.xls2json_backends import md_table_to_workbook

from surveys.models import InstrumentVersion

__all__ = ["XlsFormFile", "source_file", "xlsx_file"]

_MIME = {
    ".md": "text/markdown",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".csv": "text/csv",
}


@dataclass(frozen=True)
class XlsFormFile:
    """A downloadable file: name, MIME type and bytes."""

    filename: str
    mimetype: str
    data: bytes


def _stem(version: InstrumentVersion) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in version.version)
    return f"{version.instrument_id}-{safe}"


def source_file(version: InstrumentVersion) -> XlsFormFile:
    """The instrument's XLSForm exactly as stored."""
    ext = (
        version.source_format
        if version.source_format.startswith(".")
        else f".{version.source_format}"
    )
    return XlsFormFile(
        filename=f"{_stem(version)}{ext}",
        mimetype=_MIME.get(ext, "application/octet-stream"),
        data=bytes(version.source),
    )


def xlsx_file(version: InstrumentVersion) -> XlsFormFile:
    """The XLSForm as an Excel workbook (converted from markdown when stored as .md)."""
    ext = (
        version.source_format
        if version.source_format.startswith(".")
        else f".{version.source_format}"
    )
    if ext == ".xlsx":
        return source_file(version)
    if ext != ".md":
        raise ValueError(f"only markdown XLSForms are converted, not {ext}")
    workbook = md_table_to_workbook(bytes(version.source).decode("utf-8"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return XlsFormFile(
        filename=f"{_stem(version)}.xlsx", mimetype=_MIME[".xlsx"], data=buffer.getvalue()
    )

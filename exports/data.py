"""Data exports for evaluators: one row per response, coded values, and a codebook.

Formats: CSV, Excel (data and codebook sheets), SPSS ``.sav`` and Stata ``.dta`` (both
through pyreadstat, with variable labels and value labels). Every format comes with the
codebook as CSV.

Coding rules (also written into every codebook):

- ``select_one``: choices whose names are whole numbers keep that number (0-10 scales);
  other choices are numbered 1, 2, 3... in the form's order. Choices that count as no
  answer ("prefer not to say", "don't know") get negative codes from -9 upwards
  (:data:`MISSING_CODES`); SPSS files declare -99 to -1 as user-missing, Stata files keep
  the negative codes with their labels. A question not answered (skipped or not asked) is
  empty (system missing).
- ``select_multiple``: one 0/1 column per choice, named ``{item}_{choice}``; empty when the
  question was not answered.
- numbers as numbers, dates as ISO text.
- Never exported: access codes, tokens, receipt codes, IP addresses (none are stored with
  responses), researcher ids, class names, and free text (``text`` items). Free text can
  hold names and other personal details; it is left out of evaluator exports altogether
  (quotes cleared after PII screening appear only in the neighbourhood report).
- Variable names follow SPSS and Stata rules: a letter first, then letters, digits or
  underscores, at most 32 characters, unique without regard to case.

CSV and Excel files can carry the value labels instead of the codes (``labels=True``:
"Agree" rather than ``4``, "chosen" rather than ``1``) for readers without a statistics
package; the Excel file always has a ``labels`` sheet listing every code with its label.
SPSS and Stata files hold both, so they take no such option. Every file is written
readable by its owner only (it holds survey answers), whatever the format.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from exports.dataset import (
    ExportError,
    InstrumentData,
    WaveRef,
    find_wave,
    instrument_versions,
)
from exports.dataset import load_instrument_data as _load
from exports.packdata import slugify
from exports.render import write_atomically
from instruments.model import Item

__all__ = [
    "CODEBOOK_COLUMNS",
    "FORMATS",
    "LABEL_FORMATS",
    "MISSING_CODES",
    "Dataset",
    "build_dataset",
    "export_wave",
    "labelled",
    "variable_name",
]

FORMATS = ("csv", "xlsx", "sav", "dta")
#: Formats that can carry value labels in place of codes (SPSS and Stata hold both).
LABEL_FORMATS = ("csv", "xlsx")
#: Codes given to "no answer" choices, in the order the form lists them.
MISSING_CODES = (-9, -8, -7, -6, -5, -4, -3, -2, -1)
#: Item types never exported (free text may hold personal details).
EXCLUDED_TYPES = frozenset({"text"})
CODEBOOK_COLUMNS = (
    "variable",
    "item",
    "instrument",
    "type",
    "values",
    "missing_codes",
    "source",
    "note",
)
_META: tuple[tuple[str, str, str], ...] = (
    ("response_id", "Response id (random, made by the device; not linked to any person)", "text"),
    ("instrument", "Instrument id", "text"),
    ("instrument_version", "Instrument version the response was given on", "text"),
    ("wave", "Wave (survey round)", "text"),
    ("site", "Site code (school or area)", "text"),
    ("site_name", "Site name", "text"),
    ("site_kind", "Site kind (school or area)", "text"),
    ("year_group", "Year group (from the answer, else the class)", "text"),
    ("language", "Language the questionnaire was answered in", "text"),
    ("submitted_at", "When the response was submitted (UTC, ISO 8601)", "text"),
)


def variable_name(text: str, taken: set[str]) -> str:
    """A valid SPSS/Stata variable name for ``text``, unique among ``taken`` (case-blind).

    >>> variable_name("services_used_after_school_clubs_and_more", set())
    'services_used_after_school_clubs'
    >>> variable_name("1st-choice", set())
    'v_1st_choice'
    """
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not name or not name[0].isalpha():
        name = "v_" + name
    name = name[:32]
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        suffix = f"_{n}"
        candidate = name[: 32 - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def _choice_codes(item: Item) -> dict[str, int]:
    """Choice name -> code (see the module docstring)."""
    answers = [c for c in item.choices if not c.missing]
    numeric = all(re.fullmatch(r"-?\d+", c.name) for c in answers) and answers
    codes: dict[str, int] = {}
    for position, choice in enumerate(answers, start=1):
        codes[choice.name] = int(choice.name) if numeric else position
    for code, choice in zip(MISSING_CODES, [c for c in item.choices if c.missing], strict=False):
        codes[choice.name] = code
    return codes


@dataclass
class Dataset:
    """One instrument's export: the coded frame and its metadata."""

    instrument_id: str
    frame: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[int | float, str]] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)
    codebook: pd.DataFrame = field(default_factory=pd.DataFrame)


def build_dataset(data: InstrumentData, *, wave: str) -> Dataset:
    """Code one instrument's responses for export, with labels and a codebook."""
    instrument = data.instrument
    languages = list(instrument.languages) or ["en"]
    frame = data.frame
    taken: set[str] = set()
    columns: dict[str, Any] = {}
    labels: dict[str, str] = {}
    value_labels: dict[str, dict[int | float, str]] = {}
    missing: dict[str, list[int]] = {}
    book: list[dict[str, str]] = []

    def add_book(variable: str, item: str, kind: str, label: dict[str, str], **extra: str) -> None:
        row = {"variable": variable, "item": item, "instrument": instrument.id, "type": kind}
        row.update({f"label_{lang}": label.get(lang, "") for lang in languages})
        row.update(dict.fromkeys(("values", "missing_codes", "source", "note"), ""))
        row.update(extra)
        book.append(row)

    n = len(frame)
    meta_values = {
        "instrument": [instrument.id] * n,
        "wave": [wave] * n,
    }
    for name, label, kind in _META:
        if name == "year_group" and instrument.has_item("year_group"):
            continue  # the item itself is exported (coded), answer else class year
        var = variable_name(name, taken)
        if name in meta_values:
            values: Any = meta_values[name]
        elif name == "submitted_at":
            values = [
                v.isoformat() if hasattr(v, "isoformat") else ("" if v is None else str(v))
                for v in frame["submitted_at"]
            ]
        else:
            values = [
                "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
                for v in frame[name].astype(object)
            ]
        columns[var] = values
        labels[var] = label
        add_book(var, "", kind, dict.fromkeys(languages, label), note="response metadata")
    excluded: list[str] = []
    for item in data.all_items or list(instrument.answerable_items):
        item_labels = {lang: item.label(lang) for lang in languages}
        if item.type in EXCLUDED_TYPES:
            excluded.append(item.name)
            continue
        raw = frame[item.name] if item.name in frame.columns else pd.Series([None] * n)
        source = item.source
        if item.type == "select_one":
            var = variable_name(item.name, taken)
            codes = _choice_codes(item)
            coded = [
                codes.get(str(v)) if v is not None and v is not pd.NA else None
                for v in raw.astype(object)
            ]
            columns[var] = pd.array(coded, dtype="Int64")
            labels[var] = item.label("en")
            value_labels[var] = {codes[c.name]: c.label("en") for c in item.choices}
            miss = [codes[c.name] for c in item.choices if c.missing]
            if miss:
                missing[var] = miss
            add_book(
                var,
                item.name,
                "select_one (coded)",
                item_labels,
                values="; ".join(f"{codes[c.name]} = {c.label('en')}" for c in item.choices),
                missing_codes=" ".join(str(m) for m in miss),
                source=source,
            )
        elif item.type == "select_multiple":
            answered = [
                v is not None and v is not pd.NA and str(v) != "" for v in raw.astype(object)
            ]
            chosen = [
                set(str(v).split()) if a else set()
                for v, a in zip(raw.astype(object), answered, strict=True)
            ]
            for choice in item.choices:
                var = variable_name(f"{item.name}_{choice.name}", taken)
                columns[var] = pd.array(
                    [
                        (1 if choice.name in s else 0) if a else None
                        for s, a in zip(chosen, answered, strict=True)
                    ],
                    dtype="Int64",
                )
                text = f"{item.label('en')}: {choice.label('en')}"
                labels[var] = text
                value_labels[var] = {0: "not chosen", 1: "chosen"}
                add_book(
                    var,
                    item.name,
                    "select_multiple choice (0/1)",
                    {lang: f"{item.label(lang)}: {choice.label(lang)}" for lang in languages},
                    values="0 = not chosen; 1 = chosen",
                    source=source,
                    note=f"choice '{choice.name}'",
                )
        elif item.type in ("integer", "decimal", "range"):
            var = variable_name(item.name, taken)
            columns[var] = pd.to_numeric(raw, errors="coerce").astype("Float64")
            labels[var] = item.label("en")
            add_book(var, item.name, item.type, item_labels, source=source)
        else:  # date and anything else answerable: ISO text
            var = variable_name(item.name, taken)
            columns[var] = ["" if v is None or v is pd.NA else str(v) for v in raw.astype(object)]
            labels[var] = item.label("en")
            add_book(var, item.name, item.type, item_labels, source=source)
    for name in excluded:
        item = next(i for i in (data.all_items or instrument.answerable_items) if i.name == name)
        add_book(
            "",
            name,
            f"{item.type} (not exported)",
            {lang: item.label(lang) for lang in languages},
            source=item.source,
            note="free text is never exported: it can contain names and other personal details",
        )
    out = pd.DataFrame(columns)
    codebook = pd.DataFrame(book)
    ordered = ["variable", "item", "instrument", *[f"label_{lang}" for lang in languages]]
    codebook = codebook[ordered + [c for c in CODEBOOK_COLUMNS if c not in ordered]]
    return Dataset(
        instrument_id=instrument.id,
        frame=out,
        labels=labels,
        value_labels=value_labels,
        missing=missing,
        codebook=codebook,
    )


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _numeric_for_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable columns as float64 with NaN (what pyreadstat writes as system missing)."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.Float64Dtype | pd.Int64Dtype):
            out[column] = out[column].astype("float64")
    return out


def labelled(dataset: Dataset) -> pd.DataFrame:
    """The dataset's frame with each coded value replaced by its label (text columns).

    A code without a label (never expected) is kept as its number, so nothing is lost.
    """
    out = dataset.frame.copy()
    for variable, value_labels in dataset.value_labels.items():
        column = out[variable].astype(object)
        out[variable] = [
            None
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
            else value_labels.get(int(v), str(v))
            for v in column
        ]
    return out


def _write_xlsx(dataset: Dataset, path: Path, *, labels: bool = False) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    frame = labelled(dataset) if labels else dataset.frame
    sheet.append(list(frame.columns))
    for row in frame.astype(object).itertuples(index=False):
        sheet.append(
            [None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in row]
        )
    book = workbook.create_sheet("codebook")
    book.append(list(dataset.codebook.columns))
    for row in dataset.codebook.itertuples(index=False):
        book.append(list(row))
    value_sheet = workbook.create_sheet("labels")
    value_sheet.append(["variable", "code", "label", "missing"])
    for variable, value_labels in dataset.value_labels.items():
        missing = set(dataset.missing.get(variable, ()))
        for code, text in value_labels.items():
            value_sheet.append([variable, code, text, "yes" if code in missing else ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_atomically(path, buffer.getvalue())


def _write_stats(dataset: Dataset, path: Path, fmt: str) -> None:
    import pyreadstat

    frame = _numeric_for_stats(dataset.frame)
    tmp = path.with_name(f".{path.name}.part")
    try:
        if fmt == "sav":
            pyreadstat.write_sav(
                frame,
                str(tmp),
                file_label=f"placevoice export: {dataset.instrument_id}",
                column_labels={k: v[:256] for k, v in dataset.labels.items()},
                variable_value_labels=dataset.value_labels,
                missing_ranges={var: [{"lo": -99, "hi": -1}] for var in dataset.missing},
            )
        else:
            pyreadstat.write_dta(
                frame,
                str(tmp),
                file_label=f"placevoice export: {dataset.instrument_id}"[:80],
                column_labels={k: v[:80] for k, v in dataset.labels.items()},
                variable_value_labels=dataset.value_labels,
            )
        os.chmod(tmp, 0o600)  # as every other export file (see write_atomically)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def export_wave(
    session: Session,
    *,
    wave: WaveRef,
    fmt: str,
    out_dir: str | Path,
    instruments: Sequence[str] | None = None,
    labels: bool = False,
) -> list[Path]:
    """Write the wave's export files into ``out_dir``; returns the paths written.

    Per instrument: ``{wave-slug}-{instrument}.{fmt}`` and
    ``{wave-slug}-{instrument}-codebook.csv`` (the XLSX also holds the codebook and
    labels sheets). With ``labels`` (CSV and XLSX only), answers are written as their
    labels, and the data file is named ``{wave-slug}-{instrument}-labels.{fmt}``.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    if labels and fmt not in LABEL_FORMATS:
        raise ExportError(
            f"labels instead of codes are for {' and '.join(LABEL_FORMATS)} files;"
            f" {fmt} files always carry both codes and value labels"
        )
    wave_row = find_wave(session, wave)
    available = instrument_versions(session, wave_row)
    wanted = list(instruments) if instruments else sorted(available)
    unknown = [i for i in wanted if i not in available]
    if unknown:
        raise ExportError(
            f"wave '{wave_row.name}' has no instrument {', '.join(unknown)}"
            f" (it has: {', '.join(sorted(available)) or 'none'})"
        )
    out = Path(out_dir)
    written: list[Path] = []
    for instrument_id in wanted:
        dataset = build_dataset(_load(session, wave_row, instrument_id), wave=wave_row.name)
        stem = f"{slugify(wave_row.name)}-{instrument_id}"
        path = out / (f"{stem}-labels.{fmt}" if labels else f"{stem}.{fmt}")
        if fmt == "csv":
            write_atomically(path, _csv_bytes(labelled(dataset) if labels else dataset.frame))
        elif fmt == "xlsx":
            _write_xlsx(dataset, path, labels=labels)
        else:
            out.mkdir(parents=True, exist_ok=True)
            _write_stats(dataset, path, fmt)
        written.append(path)
        written.append(write_atomically(out / f"{stem}-codebook.csv", _csv_bytes(dataset.codebook)))
    return written

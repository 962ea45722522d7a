"""What an import found, as lines to print and as a rejects file to fix and re-import."""

from __future__ import annotations

import csv
import io

from surveys.importing.store import ImportResult

__all__ = ["rejects_csv", "report_lines"]

#: Problems listed one by one before the rest are counted.
SHOWN = 200


def _rows(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:20])) + (" ..." if len(numbers) > 20 else "")


def report_lines(result: ImportResult) -> list[str]:
    """The preview (or the record) of an import, one finding a line."""
    lines = [
        f"format: {result.format} (source '{result.source}'); rows read: {result.rows}",
        "matched: "
        + (", ".join(f"{column} -> {target}" for column, target in result.matched) or "none"),
    ]
    if result.unmatched:
        lines.append("unmatched columns: " + ", ".join(result.unmatched))
    if result.ignored:
        lines.append("ignored columns (the export tool's own): " + ", ".join(result.ignored))
    for number, reason in result.left_out:
        lines.append(f"left out: row {number}: {reason}")
    lines.extend(f"note: {note}" for note in result.notes)
    kind = "problem" if result.dry_run else "skipped"
    name = result.table.source if result.table is not None else ""
    for issue in result.issues[:SHOWN]:
        value = (
            f" [value: {issue.value}]" if issue.value and issue.value not in issue.message else ""
        )
        lines.append(f"{kind}: {issue.text(name)}{value}")
    if len(result.issues) > SHOWN:
        lines.append(f"problem: ... and {len(result.issues) - SHOWN} more")
    if result.duplicates:
        pairs = ", ".join(f"row {a} = row {b}" for a, b in result.duplicates[:20])
        lines.append(f"duplicates (stored once): {len(result.duplicates)}: {pairs}")
    lines.extend(
        f"changed: row {change.row} (respondent {change.respondent}):"
        f" {', '.join(change.questions) or 'meta data'}"
        for change in result.changes[:SHOWN]
    )
    verb = "would be" if result.dry_run else "were"
    lines.append(
        f"{'dry run: ' if result.dry_run else ''}{result.added} {verb} added,"
        f" {result.updated} updated, {result.unchanged} unchanged;"
        f" {result.skipped} bad row(s)"
        + (f" ({_rows(sorted({i.row for i in result.issues}))})" if result.skipped else "")
    )
    return lines


def rejects_csv(result: ImportResult) -> bytes:
    """The rows that were not imported, as the file had them, with a ``problems`` column."""
    table = result.table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table is None:
        return b""
    writer.writerow(["row", *(table.label(i) for i in range(len(table.header))), "problems"])
    by_row: dict[int, list[str]] = {}
    for issue in result.issues:
        by_row.setdefault(issue.row, []).append(f"{issue.column}: {issue.message}")
    for number, cells in table.rows:
        if number in by_row:
            writer.writerow([number, *cells, "; ".join(by_row[number])])
    return out.getvalue().encode("utf-8-sig")

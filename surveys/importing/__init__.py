"""Importing responses collected elsewhere (paper, Excel, KoboToolbox) from CSV or XLSX.

One row per response: a column per item (choice names as values, select_multiple as
space-separated names), ``site`` (site id or name) and optional ``response_id``,
``class``, ``submitted_at``, ``language``, ``postcode``, ``year_group`` and ``gender``
(the last three are answers when the instrument has items with those names).

Every row is validated with :func:`surveys.validation.validate_answers` (the service the
web forms use) before anything is written; then the new rows are inserted in bulk. A file
with bad rows stores nothing unless ``skip_bad`` is given (then its good rows are stored).
Re-importing a file changes nothing: rows are idempotent on ``response_id``, and a row
without one gets a UUID derived from the wave, the instrument and the row's own content
(with its occurrence number among identical rows), so the same file, or the same file
with some rows corrected, never stores a response twice.
"""

from __future__ import annotations

from surveys.importing.postcodes import area_for_postcode, normalise_postcode
from surveys.importing.rows import (
    META_COLUMNS,
    ImportRefused,
    derived_response_id,
    wave_version,
)
from surveys.importing.store import ImportResult, import_responses
from surveys.importing.tables import Table, read_table

__all__ = [
    "META_COLUMNS",
    "ImportRefused",
    "ImportResult",
    "Table",
    "area_for_postcode",
    "derived_response_id",
    "import_responses",
    "normalise_postcode",
    "read_table",
    "wave_version",
]

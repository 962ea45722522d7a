"""Importing responses collected elsewhere: KoboToolbox, ODK Central, SurveyMonkey, paper.

A file is read (:mod:`~surveys.importing.tables`: CSV in any common encoding and
separator, XLSX, or ODK Central's zip), turned into one table by its format's rules
(:mod:`~surveys.importing.formats`), its columns matched to the instrument's questions by
name, label or a mapping file (:mod:`~surveys.importing.mapping`), and its cells read as
people write them: choices by name or label in any language, UK dates, Excel serials
(:mod:`~surveys.importing.values`).

Every row is validated with :func:`surveys.validation.validate_answers` (the service the
web forms use) before anything is written. A file with bad rows stores nothing unless
``skip_bad`` is given (then its good rows are stored); ``dry_run`` stores nothing and
reports what would be done. Each source's respondent id is kept beside the project's
UUID, unique per wave and source: importing the same file again changes nothing, and
importing a corrected file updates only the rows that changed. Rows without a
respondent id get a UUID derived from the wave, the instrument and the row's content.
"""

from __future__ import annotations

from surveys.importing.formats import FORMATS
from surveys.importing.mapping import META_COLUMNS, ColumnMapping, read_mapping
from surveys.importing.postcodes import area_for_postcode, normalise_postcode
from surveys.importing.report import rejects_csv, report_lines
from surveys.importing.rows import (
    ImportRefused,
    Issue,
    derived_response_id,
    source_response_id,
    wave_version,
)
from surveys.importing.store import Change, ImportResult, import_responses
from surveys.importing.tables import Table, read_grids

__all__ = [
    "FORMATS",
    "META_COLUMNS",
    "Change",
    "ColumnMapping",
    "ImportRefused",
    "ImportResult",
    "Issue",
    "Table",
    "area_for_postcode",
    "derived_response_id",
    "import_responses",
    "normalise_postcode",
    "read_grids",
    "read_mapping",
    "rejects_csv",
    "report_lines",
    "source_response_id",
    "wave_version",
]

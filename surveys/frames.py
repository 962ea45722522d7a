"""From the database to a pandas DataFrame: one row per response, one column per item.

The frame is what :mod:`analysis` and the exports read. It is built column by column
straight from the stored JSON (decoded once per response, in chunks, so memory stays
proportional to the frame itself and not to the decoded answers):

- ``response_id, site, site_name, site_kind, class, year_group, gender, area``, then
- one column per answerable item, in form order: ``select_one`` as a pandas
  Categorical with the instrument's choice order; ``select_multiple`` as the chosen
  names separated by spaces; ``integer``/``decimal``/``range`` as float; ``text`` and
  ``date`` as text. Unanswered is NA.

Responses to several versions of one instrument combine: the newest version sets the
item order and choice order, items only older versions have follow at the end, and an
item a response's version lacks is NA.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import ColumnElement, Text, cast, func, select
from sqlalchemy.orm import Session

from instruments import Instrument
from instruments.model import Item
from surveys.errors import NotFound, ServiceMessage
from surveys.models import Community, InstrumentVersion, Response, SchoolClass, Site, Wave
from surveys.services.setup import instrument_of

__all__ = [
    "ANALYSED_STATUSES",
    "META_COLUMNS",
    "CombinedInstrument",
    "analysis_condition",
    "combined_instrument",
    "load_responses",
]

#: Columns every frame starts with, before the item columns.
META_COLUMNS: tuple[str, ...] = (
    "response_id",
    "site",
    "site_name",
    "site_kind",
    "class",
    "year_group",
    "gender",
    "area",
)

#: Statuses whose responses count in results (drafts and rejected interviews never do).
ANALYSED_STATUSES: tuple[str, ...] = ("submitted", "approved")

#: Rows decoded at a time.
CHUNK = 2_000

_NUMERIC = frozenset({"integer", "decimal", "range"})


def analysis_condition(session: Session, wave_id: int) -> ColumnElement[bool]:
    """Which of a wave's responses count in results.

    The field-work rule (``surveys.services.field.counts_in_analysis``: interviews
    count once approved, or when submitted if the community does not wait for review;
    other channels when submitted) when it is installed, else :data:`ANALYSED_STATUSES`.
    """
    try:
        field = importlib.import_module("surveys.services.field")
    except ImportError:
        field = None
    rule = getattr(field, "counts_in_analysis", None)
    if rule is not None:
        community = session.scalar(
            select(Community)
            .join(Wave, Wave.community_id == Community.id)
            .where(Wave.id == wave_id)
        )
        if community is not None:
            condition: ColumnElement[bool] = rule(community)
            return condition
    return Response.status.in_(ANALYSED_STATUSES)


@dataclass(frozen=True)
class CombinedInstrument:
    """The items of every stored version of one instrument, merged.

    ``items`` are the newest version's answerable items in form order, then items only
    older versions have; each select item's ``categories`` list the newest version's
    choices first, then choices only older versions have.
    """

    instrument_id: str
    newest: Instrument
    items: tuple[Item, ...]
    categories: dict[str, tuple[str, ...]]
    version_ids: tuple[int, ...]
    #: Version id -> names of the items that version has.
    items_by_version: dict[int, frozenset[str]]

    def item(self, name: str) -> Item:
        """The merged item called ``name``."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)


def combined_instrument(
    session: Session, instrument_id: str, *, version_ids: Iterable[int] | None = None
) -> CombinedInstrument:
    """Merge the stored versions of ``instrument_id`` (or just ``version_ids``)."""
    query = select(InstrumentVersion).where(InstrumentVersion.instrument_id == instrument_id)
    if version_ids is not None:
        query = query.where(InstrumentVersion.id.in_(list(version_ids)))
    versions = session.scalars(
        query.order_by(InstrumentVersion.created_at.desc(), InstrumentVersion.id.desc())
    ).all()
    if not versions:
        raise NotFound(ServiceMessage.NO_INSTRUMENT, id=instrument_id)
    parsed = [(v.id, instrument_of(v)) for v in versions]
    items: dict[str, Item] = {}
    categories: dict[str, list[str]] = {}
    by_version: dict[int, frozenset[str]] = {}
    for version_id, instrument in parsed:
        answerable = instrument.answerable_items
        by_version[version_id] = frozenset(i.name for i in answerable)
        for item in answerable:
            if item.name not in items:
                items[item.name] = item
                categories[item.name] = list(item.choice_names)
            else:
                known = categories[item.name]
                known.extend(c for c in item.choice_names if c not in known)
    return CombinedInstrument(
        instrument_id=instrument_id,
        newest=parsed[0][1],
        items=tuple(items.values()),
        categories={k: tuple(v) for k, v in categories.items()},
        version_ids=tuple(v for v, _ in parsed),
        items_by_version=by_version,
    )


# --- column builders: each takes one chunk of values and returns an array ------------


def _json_loads() -> Callable[[str | bytes], Any]:
    """orjson's decoder when installed (several times faster), else the standard one."""
    try:
        import orjson
    except ImportError:
        return json.loads
    decode: Callable[[str | bytes], Any] = orjson.loads
    return decode


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(values: list[Any]) -> npt.NDArray[np.object_]:
    out: npt.NDArray[np.object_] = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _category_builder(choices: Sequence[str]) -> Callable[[list[Any]], npt.NDArray[np.int16]]:
    lookup = {name: code for code, name in enumerate(choices)}
    dtype = pd.CategoricalDtype(list(choices))

    def build(values: list[Any]) -> npt.NDArray[np.int16]:
        try:  # the C hash table: fast, and the usual case (every value a choice name)
            codes = pd.Categorical(_objects(values), dtype=dtype).codes
            return np.asarray(codes, dtype=np.int16)
        except TypeError:  # an unhashable value (a list where a name belongs)
            get = lookup.get
            return np.fromiter(
                (get(v, -1) if isinstance(v, str) else -1 for v in values),
                dtype=np.int16,
                count=len(values),
            )

    return build


def _numbers(values: list[Any]) -> npt.NDArray[np.float64]:
    cleaned = [
        v if isinstance(v, int | float | str) and not isinstance(v, bool) else None for v in values
    ]
    numbers = pd.to_numeric(pd.Series(_objects(cleaned), dtype=object), errors="coerce")
    return np.asarray(numbers, dtype=np.float64)


def _shared_text(memo: dict[str, str]) -> Callable[[list[Any]], npt.NDArray[np.object_]]:
    """Text columns whose equal values share one string object (many answers repeat)."""

    def build(values: list[Any]) -> npt.NDArray[np.object_]:
        keep = memo.setdefault
        out: list[str | None] = []
        for v in values:
            if isinstance(v, list):
                v = " ".join(str(x) for x in v)
            elif v is not None and not isinstance(v, str):
                v = str(v)
            out.append(keep(v, v) if v else None)
        return _objects(out)

    return build


def _builder(item: Item, choices: Sequence[str]) -> Callable[[list[Any]], npt.NDArray[Any]]:
    if item.type == "select_one":
        return _category_builder(choices)
    if item.type in _NUMERIC:
        return _numbers
    return _shared_text({})


def _empty_frame(combined: CombinedInstrument) -> pd.DataFrame:
    columns: dict[str, Any] = {
        "response_id": pd.Series([], dtype=object),
        "site": pd.Series([], dtype=object),
        "site_name": pd.Series([], dtype=object),
        "site_kind": pd.Series([], dtype=object),
        "class": pd.Series([], dtype=object),
        "year_group": pd.Categorical([]),
        "gender": pd.Categorical([]),
        "area": pd.Series([], dtype=object),
    }
    for item in combined.items:
        if item.type == "select_one":
            columns[item.name] = pd.Categorical([], categories=combined.categories[item.name])
        elif item.type in _NUMERIC:
            columns[item.name] = pd.Series([], dtype=np.float64)
        else:
            columns[item.name] = pd.Series([], dtype=object)
    return pd.DataFrame(columns)


def _lookup_column(keys: npt.NDArray[np.int64], mapping: dict[int, str]) -> npt.NDArray[np.object_]:
    """Map integer keys (-1 = none) to shared string objects (no per-row copies)."""
    out: npt.NDArray[np.object_] = np.empty(len(keys), dtype=object)
    if len(keys) == 0:
        return out
    unique, inverse = np.unique(keys, return_inverse=True)
    table: npt.NDArray[np.object_] = np.empty(len(unique), dtype=object)
    table[:] = [mapping.get(int(k)) for k in unique]
    out[:] = table[inverse]
    return out


def load_responses(
    session: Session,
    *,
    wave: Wave | int,
    instrument_id: str,
    statuses: Sequence[str] | None = None,
    site_kind: str | None = None,
) -> pd.DataFrame:
    """A wave's responses to one instrument as a DataFrame.

    Parameters
    ----------
    session
        A database session (only read).
    wave
        The wave (or its id).
    instrument_id
        Instrument id; responses to every stored version of it are combined.
    statuses
        Response statuses to include; default :func:`analysis_condition` (drafts and
        rejected interviews never count; interviews count once reviewed).
    site_kind
        Only responses at sites of this kind ("school" or "area").

    Returns
    -------
    DataFrame
        Columns :data:`META_COLUMNS` then one per answerable item (see the module
        docstring), one row per response ordered by response id.
        ``year_group`` is the answer to a ``year_group`` item where the instrument has
        one (falling back to the class's year, as ``year<N>``, when unanswered), else the
        class's year as ``year<N>``; ``gender`` is the answer to a ``gender`` item, else
        NA; ``area`` is the site code for responses at an area (residents), else NA.
    """
    wave_id = wave if isinstance(wave, int) else wave.id
    counted = (
        Response.status.in_(tuple(statuses))
        if statuses is not None
        else analysis_condition(session, wave_id)
    )
    combined = combined_instrument(session, instrument_id)
    sites = {
        row.id: (row.code, row.name, row.kind)
        for row in session.execute(select(Site.id, Site.code, Site.name, Site.kind))
    }
    classes = {
        row.id: (row.name, row.year_group)
        for row in session.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.year_group))
    }
    query = (
        select(
            Response.id,
            func.coalesce(Response.site_id, -1),
            func.coalesce(Response.class_id, -1),
            cast(Response.answers, Text),
        )
        .where(
            Response.wave_id == wave_id,
            Response.instrument_version_id.in_(combined.version_ids),
            counted,
        )
        .order_by(Response.id)
    )
    if site_kind is not None:
        kind_sites = [sid for sid, (_, _, kind) in sites.items() if kind == site_kind]
        query = query.where(Response.site_id.in_(kind_sites))

    items = combined.items
    builders = [_builder(item, combined.categories[item.name]) for item in items]
    parts: list[list[npt.NDArray[Any]]] = [[] for _ in items]
    ids: list[str] = []
    site_keys: list[int] = []
    class_keys: list[int] = []
    loads = _json_loads()
    names = [item.name for item in items]
    # A Core result on the session's connection: no ORM row processing per row.
    result = session.connection().execute(query.execution_options(yield_per=CHUNK))
    for chunk in result.partitions(CHUNK):
        rids, site_ids, class_ids, texts = zip(*chunk, strict=True)
        ids.extend(rids)
        site_keys.extend(site_ids)
        class_keys.extend(class_ids)
        decoded = [_as_dict(loads(t) if isinstance(t, str | bytes) else t) for t in texts]
        del texts
        for index, name in enumerate(names):
            parts[index].append(builders[index]([d.get(name) for d in decoded]))
        del decoded
    if not ids:
        return _empty_frame(combined)

    site_arr = np.asarray(site_keys, dtype=np.int64)
    class_arr = np.asarray(class_keys, dtype=np.int64)
    columns: dict[str, Any] = {
        "response_id": np.asarray(ids, dtype=object),
        "site": _lookup_column(site_arr, {k: v[0] for k, v in sites.items()}),
        "site_name": _lookup_column(site_arr, {k: v[1] for k, v in sites.items()}),
        "site_kind": _lookup_column(site_arr, {k: v[2] for k, v in sites.items()}),
        "class": _lookup_column(class_arr, {k: v[0] for k, v in classes.items()}),
    }
    del ids
    class_years = _lookup_column(class_arr, {k: f"year{v[1]}" for k, v in classes.items()})
    item_columns: dict[str, Any] = {}
    for index, item in enumerate(items):
        joined = np.concatenate(parts[index])
        parts[index] = []
        if item.type == "select_one":
            item_columns[item.name] = _categorical(joined, combined.categories[item.name])
        else:
            item_columns[item.name] = joined
    columns["year_group"] = _year_group(item_columns.get("year_group"), class_years)
    columns["gender"] = (
        item_columns["gender"]
        if isinstance(item_columns.get("gender"), pd.Categorical)
        else pd.Categorical([None] * len(site_arr))
    )
    kinds = columns["site_kind"]
    columns["area"] = np.where(kinds == "area", columns["site"], None)
    # year_group and gender keep their place among the first columns (filled as above).
    columns.update({k: v for k, v in item_columns.items() if k not in columns})
    return pd.DataFrame(columns)


def _categorical(codes: npt.NDArray[Any], categories: Sequence[str]) -> pd.Categorical:
    dtype: pd.CategoricalDtype = pd.CategoricalDtype(list(categories))
    result: pd.Categorical = pd.Categorical.from_codes(codes.astype(np.int16), dtype=dtype)
    return result


def _year_group(
    answers: pd.Categorical | npt.NDArray[Any] | None, class_years: npt.NDArray[np.object_]
) -> pd.Categorical:
    """The respondent's year group: their answer, else their class's year."""
    if isinstance(answers, pd.Categorical):
        categories = list(answers.categories)
        codes = np.asarray(answers.codes, dtype=np.int16).copy()
        lookup = {name: code for code, name in enumerate(categories)}
        fill = np.fromiter(
            (lookup.get(y, -1) if isinstance(y, str) else -1 for y in class_years),
            dtype=np.int16,
            count=len(class_years),
        )
        unanswered = codes < 0
        codes[unanswered] = fill[unanswered]
        return _categorical(codes, categories)
    present = sorted({y for y in class_years if isinstance(y, str)}, key=_year_key)
    return pd.Categorical(class_years, categories=present)


def _year_key(text: str) -> tuple[int, str]:
    digits = "".join(ch for ch in text if ch.isdigit())
    return (int(digits) if digits else 0, text)

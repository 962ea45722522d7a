"""The responses frame: one row per response, typed item columns, versions combined."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from instruments import load_instrument
from surveys.analysis_bridge import item_specs, scale_specs
from surveys.frames import META_COLUMNS, combined_instrument, load_responses
from surveys.models import Response, SchoolClass, Site, Wave, WaveInstrument
from surveys.services import register_instrument, store_response

FORM_V1 = b"""
| survey |
| | type | name | label | domain | positive | scale | reverse |
| | select_one agree | q_like | I like it | school | agree strongly_agree | fun | |
| | select_one agree | q_old | Only in version 1 | school | agree | | |
| | select_multiple clubs | clubs | Clubs | | sport | | |
| | integer | age | Age | | | | |
| | text | comment | Comment | | | | |
| choices |
| | list_name | name | label | score |
| | agree | strongly_agree | Agree a lot | 5 |
| | agree | agree | Agree | 4 |
| | agree | disagree | Disagree | 2 |
| | clubs | sport | Sport | |
| | clubs | music | Music | |
| settings |
| | form_id | version |
| | mini | 1 |
"""

FORM_V2 = b"""
| survey |
| | type | name | label | domain | positive | scale | reverse |
| | select_one agree | q_like | I like it | school | agree strongly_agree | fun | |
| | select_one agree | q_new | Only in version 2 | school | agree | fun | yes |
| | select_multiple clubs | clubs | Clubs | | sport | | |
| | integer | age | Age | | | | |
| | text | comment | Comment | | | | |
| choices |
| | list_name | name | label | score |
| | agree | strongly_agree | Agree a lot | 5 |
| | agree | agree | Agree | 4 |
| | agree | not_sure | Not sure | 3 |
| | agree | disagree | Disagree | 2 |
| | clubs | sport | Sport | |
| | clubs | music | Music | |
| settings |
| | form_id | version |
| | mini | 2 |
"""


@pytest.fixture
def mini(
    session: Session,
    make_site: Callable[..., Site],
    make_class: Callable[..., SchoolClass],
    make_wave: Callable[..., Wave],
) -> dict[str, Any]:
    v1 = register_instrument(session, load_instrument(FORM_V1, file_type=".md"))
    v2 = register_instrument(session, load_instrument(FORM_V2, file_type=".md"))
    wave = make_wave(instruments=("pupil_perception",))
    wave.instruments.append(WaveInstrument(instrument_version=v2))
    school = make_site("S01", name="Ash School")
    area = make_site("A1", kind="area", name="Northside")
    cls = make_class(school, name="6A", year_group=6)
    session.commit()
    return {"v1": v1, "v2": v2, "wave": wave, "school": school, "area": area, "class": cls}


def add(
    session: Session,
    env: dict[str, Any],
    answers: dict[str, object],
    *,
    version: str = "v2",
    site: str = "school",
    status: str = "submitted",
    with_class: bool = False,
    channel: str = "web",
) -> str:
    rid = str(uuid.uuid4())
    stored = store_response(
        session,
        response_id=rid,
        wave=env["wave"],
        version=env[version],
        channel=channel,
        answers=answers,
        site=env[site],
        school_class=env["class"] if with_class else None,
        status=status,
    )
    assert stored.response is not None, [e.text() for e in stored.validated.errors]
    session.commit()
    return rid


def test_columns_and_types(session: Session, mini: dict[str, Any]) -> None:
    rid = add(
        session,
        mini,
        {"q_like": "agree", "clubs": ["music", "sport"], "age": "11", "comment": "fine"},
        with_class=True,
    )
    frame = load_responses(session, wave=mini["wave"], instrument_id="mini")
    assert tuple(frame.columns[: len(META_COLUMNS)]) == META_COLUMNS
    assert list(frame.columns[len(META_COLUMNS) :]) == [
        "q_like",
        "q_new",
        "clubs",
        "age",
        "comment",
        "q_old",
    ]
    row = frame.iloc[0]
    assert row["response_id"] == rid
    assert (row["site"], row["site_name"], row["site_kind"]) == ("S01", "Ash School", "school")
    assert row["class"] == "6A"
    assert row["year_group"] == "year6"  # from the class: the form has no year_group item
    assert pd.isna(row["gender"]) and pd.isna(row["area"])
    assert isinstance(frame["q_like"].dtype, pd.CategoricalDtype)
    assert frame["clubs"].iloc[0] == "sport music"  # stored in form order
    assert frame["age"].dtype == np.float64 and frame["age"].iloc[0] == 11.0
    assert frame["comment"].iloc[0] == "fine"


def test_categories_follow_the_choice_order(session: Session, mini: dict[str, Any]) -> None:
    add(session, mini, {"q_like": "disagree"})
    frame = load_responses(session, wave=mini["wave"], instrument_id="mini")
    assert list(frame["q_like"].cat.categories) == [
        "strongly_agree",
        "agree",
        "not_sure",
        "disagree",
    ]


def test_versions_combine(session: Session, mini: dict[str, Any]) -> None:
    old = add(session, mini, {"q_like": "agree", "q_old": "disagree"}, version="v1")
    new = add(session, mini, {"q_like": "not_sure", "q_new": "agree"})
    frame = load_responses(session, wave=mini["wave"], instrument_id="mini").set_index(
        "response_id"
    )
    assert frame.loc[old, "q_old"] == "disagree" and pd.isna(frame.loc[old, "q_new"])
    assert frame.loc[new, "q_new"] == "agree" and pd.isna(frame.loc[new, "q_old"])
    assert list(frame["q_like"].loc[[old, new]]) == ["agree", "not_sure"]


@pytest.mark.parametrize(
    ("channel", "status", "included"),
    [
        ("web", "draft", False),
        ("web", "submitted", True),
        ("field", "rejected", False),
        ("field", "submitted", False),  # an interview counts once reviewed
        ("field", "approved", True),
    ],
)
def test_only_counted_statuses(
    session: Session, mini: dict[str, Any], channel: str, status: str, included: bool
) -> None:
    add(session, mini, {"q_like": "agree"})
    rid = add(session, mini, {"q_like": "agree"}, status=status, channel=channel)
    ids = set(load_responses(session, wave=mini["wave"], instrument_id="mini")["response_id"])
    assert (rid in ids) is included
    assert len(ids) == 1 + included


def test_explicit_statuses_and_site_kind(session: Session, mini: dict[str, Any]) -> None:
    draft = add(session, mini, {"q_like": "agree"}, status="draft")
    resident = add(session, mini, {"q_like": "agree"}, site="area")
    frame = load_responses(
        session, wave=mini["wave"], instrument_id="mini", statuses=("draft", "submitted")
    )
    assert set(frame["response_id"]) == {draft, resident}
    areas = load_responses(session, wave=mini["wave"], instrument_id="mini", site_kind="area")
    assert list(areas["response_id"]) == [resident]
    assert list(areas["area"]) == ["A1"]


def test_empty_wave_has_the_columns(session: Session, mini: dict[str, Any]) -> None:
    frame = load_responses(session, wave=mini["wave"], instrument_id="mini")
    assert len(frame) == 0
    assert "q_like" in frame.columns and isinstance(frame["q_like"].dtype, pd.CategoricalDtype)


def test_other_waves_are_left_out(
    session: Session, mini: dict[str, Any], make_wave: Callable[..., Wave]
) -> None:
    add(session, mini, {"q_like": "agree"})
    other = make_wave("Autumn 2027")
    assert load_responses(session, wave=other, instrument_id="mini").empty


def test_pupil_year_group_and_gender_are_the_answers(
    session: Session,
    mini: dict[str, Any],
    make_code: Callable[..., Any],
) -> None:
    from surveys.services import latest_instrument_version

    version = latest_instrument_version(session, "pupil_perception")
    for answers, cls in (
        ({"year_group": "year8", "gender": "girl"}, mini["class"]),
        ({"gender": "boy"}, mini["class"]),
        ({}, None),
    ):
        store_response(
            session,
            response_id=str(uuid.uuid4()),
            wave=mini["wave"],
            version=version,
            channel="class",
            answers=answers,
            site=mini["school"],
            school_class=cls,
        )
    session.commit()
    frame = load_responses(session, wave=mini["wave"], instrument_id="pupil_perception")
    assert sorted(frame["year_group"].astype(object).fillna("-")) == ["-", "year6", "year8"]
    assert frame["year_group"].cat.categories[0] == "year5"
    assert sorted(frame["gender"].astype(object).fillna("-")) == ["-", "boy", "girl"]


def test_combined_instrument_and_specs(session: Session, mini: dict[str, Any]) -> None:
    combined = combined_instrument(session, "mini")
    assert combined.categories["q_like"] == ("strongly_agree", "agree", "not_sure", "disagree")
    specs = {s.name: s for s in item_specs(combined.items)}
    assert specs["q_like"].positive == frozenset({"agree", "strongly_agree"})
    assert specs["q_new"].reverse and specs["q_new"].scores["not_sure"] == 3.0
    assert specs["q_like"].domain == "school"
    scales = scale_specs(combined.items)
    assert [(s.name, s.items) for s in scales] == [("fun", ("q_like", "q_new"))]


def test_frame_feeds_the_analysis(session: Session, mini: dict[str, Any]) -> None:
    from analysis import item_summary

    for answer in ["agree"] * 12 + ["disagree"] * 8:
        add(session, mini, {"q_like": answer})
    frame = load_responses(session, wave=mini["wave"], instrument_id="mini")
    combined = combined_instrument(session, "mini")
    out = item_summary(frame, item_specs(combined.items), wave="w", k=5)
    row = out[(out["site"] == "S01") & (out["item"] == "q_like")].iloc[0]
    assert (row["n"], row["n_positive"], row["pct_positive"]) == (20, 12, 60.0)


def test_response_rows_not_touched(session: Session, mini: dict[str, Any]) -> None:
    rid = add(session, mini, {"q_like": "agree"})
    load_responses(session, wave=mini["wave"], instrument_id="mini")
    assert session.get(Response, rid) is not None


def test_wave_summary_with_trends(
    session: Session, make_site: Callable[..., Site], make_wave: Callable[..., Wave]
) -> None:
    from surveys.analysis_bridge import wave_summary
    from surveys.importing import import_responses

    make_site("S01")
    make_site("S02")
    before = make_wave("Spring 2026")
    now = make_wave("Spring 2027", previous="Spring 2026")
    for wave, s01_positive in ((before, 20), (now, 45)):
        rows = ["site,safe_school"]
        rows += ["S01,very_safe"] * s01_positive + ["S01,not_safe"] * (50 - s01_positive)
        rows += ["S02,very_safe"] * 25 + ["S02,not_safe"] * 25
        import_responses(
            session,
            wave=wave,
            instrument_id="pupil_perception",
            data="\n".join(rows).encode(),
            source=f"{wave.name}.csv",
        )
    session.commit()
    result = wave_summary(session, now, "school")
    assert (result.k, result.responses, result.instrument_id) == (10, 100, "pupil_perception")
    assert result.trends is not None
    trend = result.trends[
        (result.trends["site"] == "S01") & (result.trends["item"] == "safe_school")
    ]
    assert trend["change"].iloc[0] == pytest.approx(50.0)
    assert trend["change_flag"].iloc[0] == "improved"
    assert wave_summary(session, now, "school", trends=False).trends is None
    with pytest.raises(ValueError, match="level must be"):
        wave_summary(session, now, "county")

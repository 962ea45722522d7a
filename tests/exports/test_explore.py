"""The explorer's tables, chart and files, cut from a pack context."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image

from exports.explore import explorer_table, shown_number, table_csv, table_xlsx
from exports.explore_chart import chart_png, chart_svg


def _row(item: str, label: str, pct: str, chart: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "item": item,
        "label": label,
        "n": "[c]" if chart is None else "40",
        "pct": pct,
        "ci": "[c]" if chart is None else "50–70",
        "benchmark": "[c]" if chart is None else "55%",
        "diff": "[c]" if chart is None else "+5",
        "flag": "" if chart is None else "similar",
        "suppressed": chart is None,
        "chart": chart,
    }


@pytest.fixture
def context() -> dict[str, Any]:
    chart = {"pct": 60.4, "low": 50.1, "high": 69.8, "bench": 55.2, "flag": "similar"}
    return {
        "kind": "school",
        "site": "S01",
        "site_name": "Ash School",
        "wave": "Spring 2027",
        "benchmark_label": "Other schools",
        "previous_wave": None,
        "domains": [
            {
                "key": "safety",
                "title": "Feeling safe",
                "items": [
                    _row("q1", "=Safe at school", "60%", chart),
                    _row("q2", "Safe at home", "[c]", None),
                ],
                "breakdowns": [
                    {
                        "var": "year_group",
                        "title": "Year group",
                        "columns": ["Year 5", "Year 6"],
                        "rows": [
                            {"label": "=Safe at school", "cells": ["58%", "[c]"]},
                            {"label": "Safe at home", "cells": ["[c]", "[c]"]},
                        ],
                        "hidden": ["Year 7"],
                    }
                ],
            }
        ],
    }


def test_overall_table_is_the_packs_cells(context: dict[str, Any]) -> None:
    table = explorer_table(context)
    assert table.columns == [
        "Answers (n)",
        "This school %",
        "95% CI",
        "Other schools %",
        "Difference",
        "Flag",
    ]
    assert table.rows[0]["cells"] == ["40", "60%", "50–70", "55%", "+5", "Similar"]
    assert table.rows[1]["cells"] == ["[c]"] * 5 + [""]
    assert [s.name for s in table.series] == ["This school", "Other schools"]
    assert table.series[0].values == ((60.4, 50.1, 69.8), None)


def test_breakdown_hides_groups_hidden_everywhere(context: dict[str, Any]) -> None:
    table = explorer_table(context, breakdown="year_group")
    assert table.columns == ["Year 5"]  # Year 6 is [c] in every row, Year 7 was left out
    assert table.hidden == ["Year 6", "Year 7"]
    assert "Year 6, Year 7" in table.notes[0]
    assert [r["cells"] for r in table.rows] == [["58%"], ["[c]"]]
    one = explorer_table(context, breakdown="year_group", group="Year 5")
    assert one.columns == ["Year 5"]
    with pytest.raises(KeyError):
        explorer_table(context, breakdown="fsm")


def test_shown_number_reads_only_shown_figures() -> None:
    assert [shown_number(t) for t in ("58%", "+5", "−3", "[c]", "")] == [58, 5, -3, None, None]


def test_csv_and_xlsx_hold_the_table_and_never_a_formula(context: dict[str, Any]) -> None:
    table = explorer_table(context)
    rows = list(csv.reader(io.StringIO(table_csv(table, context).decode("utf-8-sig"))))
    assert rows[0][:6] == ["wave", "site", "site_name", "domain", "item", "question"]
    assert rows[1] == [
        "Spring 2027",
        "S01",
        "Ash School",
        "Feeling safe",
        "q1",
        "=Safe at school",
        "40",
        "60%",
        "50–70",
        "55%",
        "+5",
        "Similar",
    ]
    sheet = load_workbook(io.BytesIO(table_xlsx(table, context))).active
    assert sheet["F2"].value == "=Safe at school" and sheet["F2"].data_type == "s"
    assert sheet["H3"].value == "[c]"


def test_chart_marks_shown_cells_only_and_renders_to_png(context: dict[str, Any]) -> None:
    table = explorer_table(context)
    svg = chart_svg(table)
    assert svg.count("<circle") == 2  # the legend's and q1's; q2 is hidden
    assert ">[c]</text>" in svg
    assert "Safe at home: This school [c], Other schools [c]" in svg
    png = chart_png(svg, scale=1)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size[0] == pytest.approx(360, abs=2)
    low, high = image.convert("L").getextrema()
    assert low < 100 < high  # dark marks and text on white

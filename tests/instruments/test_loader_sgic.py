"""The ``sgic`` column: which questions make the identification code, in which order."""

from __future__ import annotations

import pytest

from instruments import InstrumentError, load_instrument


def form(rows: str) -> bytes:
    return (
        "| survey |\n| | type | name | label | sgic | required |\n"
        + rows
        + "\n| choices |\n| | list_name | name | label |\n| | yn | yes | Yes |\n| | yn | no | No |"
        + "\n| settings |\n| | form_id | version |\n| | t | 1 |\n"
    ).encode()


def test_code_parts_are_ordered_by_sgic_and_never_stored_as_answers() -> None:
    instrument = load_instrument(
        form(
            "| | integer | day | Day you were born | 2 | |\n"
            "| | text | mum | Mum's first letter | 1 | |\n"
            "| | select_one yn | q | A question | | |"
        ),
        file_type=".md",
    )
    assert [(i.name, i.sgic) for i in instrument.code_items] == [("mum", 1), ("day", 2)]
    assert [i.name for i in instrument.answerable_items] == ["q"]
    assert instrument.item("mum").answerable  # still asked on its page


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        (
            "| | text | mum | Mum | first | |",
            "survey row 2: 'sgic' of 'mum' must be a whole number",
        ),
        ("| | text | mum | Mum | 1.5 | |", "must be a whole number from 1"),
        ("| | date | born | Born | 1 | |", "must be a text, integer or select_one question"),
        ("| | text | mum | Mum | 1 | yes |", "not a required text"),
        (
            "| | text | mum | Mum | 1 | |\n| | text | street | Street | 1 | |",
            "survey row 3: 'sgic' 1 of 'street' is already the place of 'mum'",
        ),
    ],
)
def test_bad_sgic_columns_are_refused_with_row_and_reason(rows: str, needle: str) -> None:
    with pytest.raises(InstrumentError) as err:
        load_instrument(form(rows), file_type=".md", name="f.md")
    assert needle in str(err.value)

"""Reading XLSForms into Instrument objects: inline markdown forms, pyxform-style."""

from __future__ import annotations

from pathlib import Path

import pytest

from instruments import InstrumentError, load_builtin, load_instrument, validate_file
from instruments.builtin import BUILTIN_IDS
from instruments.xform import to_xform

FORM = """
| survey |
| | type | name | label::English (en) | label::Polski (pl) | hint::English (en) | relevant | constraint | constraint_message::English (en) | domain | scale | positive | reverse | report | source | appearance |
| | begin group | school | At school | W szkole | | | | | | | | | | | field-list |
| | select_one agree | safe | I feel safe | Czuję się bezpiecznie | Think about this term | | | | safety | | agree strongly_agree | | | Own wording | |
| | select_one agree | belong | I belong | Należę | | | | | belonging | belong | agree strongly_agree | | | Own wording | |
| | select_one agree | lonely | I feel left out | Czuję się pominięty | | | | | belonging | belong | agree strongly_agree | yes | | Own wording | |
| | end group | | | | | | | | | | | | | | |
| | integer | age | How old are you? | Ile masz lat? | | | . >= 8 and . <= 16 | Enter an age from 8 to 16 | | | | | no | Own wording | |
| | select_multiple clubs | clubs | Clubs you go to | Kluby | | ${age} >= 10 | | | activities | | sport music | | | Own wording | |
| | text | why | Why? | Dlaczego? | | selected(${clubs}, 'sport') | | | | | | | no | Own wording | |
| | range | score | Score 0-10 | Wynik | | | | | wellbeing | | | | | ONS | |
| | note | older | Thanks | Dzięki | | | | | | | | | | | |
| choices |
| | list_name | name | label::English (en) | label::Polski (pl) | score | missing |
| | agree | strongly_disagree | Strongly disagree | Zdecydowanie nie | 1 | |
| | agree | disagree | Disagree | Nie | 2 | |
| | agree | agree | Agree | Tak | 3 | |
| | agree | strongly_agree | Strongly agree | Zdecydowanie tak | 4 | |
| | agree | pnts | Prefer not to say | Wolę nie mówić | | yes |
| | clubs | sport | Sport | Sport | | |
| | clubs | music | Music | Muzyka | | |
| | clubs | none | None | Żaden | | |
| settings |
| | form_id | version | form_title | default_language |
| | pupil_test | 2027.1 | Pupil test | English (en) |
"""


def md(text: str) -> bytes:
    return text.strip().encode()


def form_with(rows: str, *, choices: str = "", settings: str = "") -> bytes:
    body = "| survey |\n| | type | name | label |\n" + rows
    if choices:
        body += "\n| choices |\n| | list_name | name | label |\n" + choices
    body += "\n| settings |\n| | form_id | version |\n" + (settings or "| | t | 1 |")
    return body.encode()


@pytest.fixture(scope="module")
def instrument():  # type: ignore[no-untyped-def]
    text = FORM.replace(
        "| | note | older | Thanks | Dzięki | | | | | | | | | | | |",
        "| | note | older | Thanks | Dzięki | | | | | | | | | | | |",
    )
    # calculate needs a calculation column; add it in a second form variant below
    text = text.replace("| calculate | older |", "| note | older |").replace(
        "| | note | older | | |", "| | note | older | Thanks | Dzięki |"
    )
    return load_instrument(md(text), file_type=".md", name="pupil_test.md")


def test_reads_identity_languages_and_items(instrument) -> None:  # type: ignore[no-untyped-def]
    assert instrument.id == "pupil_test"
    assert instrument.version == "2027.1"
    assert instrument.default_language == "en"
    assert dict(instrument.languages) == {"en": "English", "pl": "Polski"}
    names = [item.name for item in instrument.items]
    assert names == ["safe", "belong", "lonely", "age", "clubs", "why", "score", "older"]
    assert instrument.title("en") == "Pupil test"


def test_labels_hints_and_choices_per_language(instrument) -> None:  # type: ignore[no-untyped-def]
    safe = instrument.item("safe")
    assert safe.label("pl") == "Czuję się bezpiecznie"
    assert safe.label("tr") == "I feel safe"  # falls back to the default language
    assert safe.hint("en") == "Think about this term"
    assert safe.choice_names == ("strongly_disagree", "disagree", "agree", "strongly_agree", "pnts")
    assert safe.choice("agree").score == 3.0
    assert safe.choice("pnts").missing is True
    assert safe.missing_choices == frozenset({"pnts"})
    assert safe.choice("disagree").label("pl") == "Nie"


def test_analysis_columns(instrument) -> None:  # type: ignore[no-untyped-def]
    safe, lonely, age = instrument.item("safe"), instrument.item("lonely"), instrument.item("age")
    assert safe.domain == "safety"
    assert safe.positive == frozenset({"agree", "strongly_agree"})
    assert safe.source == "Own wording"
    assert lonely.reverse is True and lonely.scale == "belong"
    assert safe.reverse is False and safe.report is True
    assert age.report is False


def test_groups_relevance_constraints(instrument) -> None:  # type: ignore[no-untyped-def]
    assert instrument.item("safe").groups == ("school",)
    assert instrument.group("school").label("pl") == "W szkole"
    assert instrument.group("school").appearance == "field-list"
    age = instrument.item("age")
    assert age.constraint == ". >= 8 and . <= 16"
    assert age.constraint_messages["en"] == "Enter an age from 8 to 16"
    assert instrument.item("why").relevant == "selected(${clubs}, 'sport')"
    score = instrument.item("score")
    assert (score.type, score.range_start, score.range_end, score.range_step) == (
        "range",
        1.0,  # ODK's default start
        10.0,
        1.0,
    )


def test_pages_group_statements_and_single_questions(instrument) -> None:  # type: ignore[no-untyped-def]
    pages = instrument.pages()
    assert pages[0].key == "school"
    assert pages[0].items == ("safe", "belong", "lonely")
    assert [p.key for p in pages[1:]] == ["age", "clubs", "why", "score", "older"]
    assert instrument.page("clubs").items == ("clubs",)


def test_notes_join_the_following_question() -> None:
    inst = load_instrument(
        form_with("| | note | intro | Hello |\n| | text | q1 | Question |\n| | text | q2 | Two |"),
        file_type=".md",
    )
    assert [p.items for p in inst.pages()] == [("intro", "q1"), ("q2",)]


def test_calculation_and_or_other() -> None:
    inst = load_instrument(
        b"""
| survey |
| | type | name | label | calculation |
| | integer | a | A | |
| | calculate | double | | ${a} * 2 |
| | select_one pets or_other | pet | Pet | |
| choices |
| | list_name | name | label |
| | pets | cat | Cat |
| | pets | dog | Dog |
| settings |
| | form_id | version |
| | calc | 3 |
""",
        file_type=".md",
    )
    assert inst.item("double").calculation == "${a} * 2"
    assert inst.item("double").type == "calculate"
    pet = inst.item("pet")
    assert pet.or_other is True
    assert "other" in pet.choice_names
    other = inst.item("pet_other")
    assert other.type == "text"
    assert other.relevant == "selected(${pet}, 'other')"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        (
            "| | begin repeat | kids | Kids |\n| | text | kid | Kid |\n| | end repeat | | |",
            "repeat",
        ),
        ("| | geopoint | where | Where |", "locations are not collected"),
        ("| | photo | pic | Picture |", "photos, audio, video and files"),
        ("| | deviceid | dev | |", "never stores device"),
        ("| | time | t | Time |", "use a date question"),
    ],
)
def test_unsupported_constructs_are_rejected_with_their_row(row: str, needle: str) -> None:
    rows = "| | text | first | First |\n" + row
    with pytest.raises(InstrumentError) as err:
        load_instrument(form_with(rows), file_type=".md", name="f.md")
    message = str(err.value)
    assert "f.md: survey row 3" in message
    assert needle in message


def test_unknown_positive_choice_names_the_row() -> None:
    body = b"""
| survey |
| | type | name | label | positive |
| | select_one yn | q | Q | yes maybe |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| settings |
| | form_id | version |
| | t | 1 |
"""
    with pytest.raises(InstrumentError, match=r"survey row 2: 'positive' names choice 'maybe'"):
        load_instrument(body, file_type=".md")


def test_bad_score_and_bad_flag_are_reported() -> None:
    bad_score = b"""
| survey |
| | type | name | label |
| | select_one yn | q | Q |
| choices |
| | list_name | name | label | score |
| | yn | yes | Yes | lots |
| settings |
| | form_id | version |
| | t | 1 |
"""
    with pytest.raises(InstrumentError, match="score 'lots' of choice 'yes'"):
        load_instrument(bad_score, file_type=".md")
    bad_flag = (
        form_with("| | text | q | Q |")
        .replace(b"| | type | name | label |", b"| | type | name | label | reverse |")
        .replace(b"| | text | q | Q |", b"| | text | q | Q | perhaps |")
    )
    with pytest.raises(InstrumentError, match="column 'reverse' must be yes or no"):
        load_instrument(bad_flag, file_type=".md")


def test_bad_expression_names_row_and_column() -> None:
    body = (
        form_with("| | integer | a | A |\n| | text | b | B |")
        .replace(b"| | type | name | label |", b"| | type | name | label | relevant |")
        .replace(b"| | text | b | B |", b"| | text | b | B | ${a} > |")
    )
    with pytest.raises(InstrumentError, match=r"survey row 3: relevant of 'b'"):
        load_instrument(body, file_type=".md")


def test_missing_form_id_and_garbage_files() -> None:
    with pytest.raises(InstrumentError, match="could not read"):
        load_instrument(b"\x00\x01 not a spreadsheet", file_type=".xlsx", name="junk.xlsx")
    with pytest.raises(InstrumentError, match="not XLSForms"):
        load_instrument(b"hello", file_type=".pdf")
    result = validate_file(Path("/nonexistent/form.xlsx"))
    assert not result.ok and "form.xlsx" in result.error


def test_instrument_is_immutable(instrument) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AttributeError):
        instrument.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("instrument_id", BUILTIN_IDS)
def test_builtin_instruments_load_without_warnings(instrument_id: str) -> None:
    inst = load_builtin(instrument_id)
    assert inst.id == instrument_id
    assert inst.warnings == ()
    assert "<h:html" in to_xform(inst)


def test_every_shared_xlsform_loads_or_fails_with_a_row_level_message(shared_dir: Path) -> None:
    forms = sorted((shared_dir / "xlsforms").glob("*.xls*")) + sorted(
        (shared_dir / "xlsforms").glob("*.csv")
    )
    assert len(forms) >= 10
    outcomes = {}
    for path in forms:
        result = validate_file(path)
        outcomes[path.name] = result
        if not result.ok:
            assert result.error.startswith(path.name + ":"), result.error
            assert "row" in result.error or "form_id" in result.error, result.error
    duplicate = outcomes["duplicate_columns.xlsx"]
    assert not duplicate.ok
    assert "column 'label' twice" in duplicate.error
    assert outcomes["yes_or_no_question.xlsx"].ok
    assert outcomes["extra_columns.xlsx"].ok
    assert "survey row" in outcomes["gps.csv"].error

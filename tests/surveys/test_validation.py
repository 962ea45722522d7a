"""Answer validation: types, choices, relevance, constraints, required-if-relevant."""

from __future__ import annotations

import datetime as dt

import pytest

from instruments import Instrument, load_instrument
from surveys.validation import Problem, relevant_items, validate_answers

FORM = b"""
| survey |
| | type | name | label | required | relevant | constraint | constraint_message | calculation | parameters |
| | select_one yn | consent | Do you agree? | yes | | | | | |
| | begin group | main | Main | | ${consent} = 'yes' | | | | |
| | integer | age | Age | yes | | . >= 8 and . <= 16 | Enter an age from 8 to 16 | | |
| | select_multiple clubs | clubs | Clubs | | | | | | |
| | text | sport_kind | Which sport? | yes | selected(${clubs}, 'sport') | | | | |
| | decimal | height | Height (m) | | | . > 0.5 | Too short | | |
| | date | birthday | Birthday | | | . <= today() | Not in the future | | |
| | range | mood | Mood | | | | | | start=0 end=10 step=2 |
| | calculate | clubs_n | | | | | | count-selected(${clubs}) | |
| | end group | | | | | | | | |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| | clubs | sport | Sport |
| | clubs | music | Music |
| | clubs | art | Art |
| settings |
| | form_id | version |
| | validation_test | 1 |
"""


@pytest.fixture(scope="module")
def inst() -> Instrument:
    return load_instrument(FORM, file_type=".md")


def good() -> dict[str, object]:
    return {
        "consent": "yes",
        "age": "11",
        "clubs": ["music", "sport"],
        "sport_kind": "  football ",
        "height": "1,42",
        "birthday": "2015-03-01",
        "mood": "6",
    }


def test_good_answers_are_typed_and_calculated(inst: Instrument) -> None:
    result = validate_answers(inst, good(), today=dt.date(2027, 3, 1))
    assert result.ok, [e.text() for e in result.errors]
    assert result.answers == {
        "consent": "yes",
        "age": 11,
        "clubs": ["sport", "music"],  # form order, whatever the order given
        "sport_kind": "football",
        "height": 1.42,
        "birthday": "2015-03-01",
        "mood": 6,
        "clubs_n": 2,
    }


def test_space_separated_multiple_and_json_numbers(inst: Instrument) -> None:
    answers = {**good(), "clubs": "art sport art", "age": 12, "height": 1.5}
    result = validate_answers(inst, answers, today=dt.date(2027, 3, 1))
    assert result.ok
    assert result.answers["clubs"] == ["sport", "art"]
    assert result.answers["age"] == 12


@pytest.mark.parametrize(
    ("item", "value", "problem"),
    [
        ("consent", "maybe", Problem.NOT_A_CHOICE),
        ("consent", "yes no", Problem.ONE_CHOICE_ONLY),
        ("age", "eleven", Problem.NOT_INTEGER),
        ("age", "11.5", Problem.NOT_INTEGER),
        ("age", "30", Problem.CONSTRAINT),
        ("clubs", "sport chess", Problem.NOT_A_CHOICE),
        ("height", "tall", Problem.NOT_NUMBER),
        ("height", "0.3", Problem.CONSTRAINT),
        ("birthday", "1st March", Problem.NOT_DATE),
        ("birthday", "2030-01-01", Problem.CONSTRAINT),
        ("mood", "11", Problem.OUT_OF_RANGE),
        ("mood", "3", Problem.OFF_STEP),
        ("height", "inf", Problem.NOT_NUMBER),
    ],
)
def test_bad_answers(inst: Instrument, item: str, value: str, problem: Problem) -> None:
    result = validate_answers(inst, {**good(), item: value}, today=dt.date(2027, 3, 1))
    assert [(e.item, e.problem) for e in result.errors] == [(item, problem)]
    assert result.errors[0].text()


def test_constraint_message_is_the_forms(inst: Instrument) -> None:
    result = validate_answers(inst, {**good(), "age": "30"}, today=dt.date(2027, 3, 1))
    assert result.errors[0].text() == "Enter an age from 8 to 16"


def test_required_only_when_relevant(inst: Instrument) -> None:
    answers = {**good(), "sport_kind": ""}
    result = validate_answers(inst, answers, today=dt.date(2027, 3, 1))
    assert [(e.item, e.problem) for e in result.errors] == [("sport_kind", Problem.REQUIRED)]
    answers = {**good(), "clubs": ["music"], "sport_kind": ""}
    assert validate_answers(inst, answers, today=dt.date(2027, 3, 1)).ok


def test_answers_hidden_by_relevance_are_dropped(inst: Instrument) -> None:
    answers = {**good(), "clubs": ["art"]}  # sport_kind no longer applies
    result = validate_answers(inst, answers, today=dt.date(2027, 3, 1))
    assert result.ok
    assert "sport_kind" not in result.answers
    # a group hidden by relevance drops everything inside it, and its required items
    result = validate_answers(inst, {"consent": "no", "age": "11"})
    assert result.ok
    assert result.answers == {"consent": "no"}


def test_relevant_items_follow_groups(inst: Instrument) -> None:
    shown = relevant_items(inst, {"consent": "no"})
    assert shown["consent"] is True
    assert shown["age"] is False and shown["mood"] is False
    shown = relevant_items(inst, {"consent": "yes", "clubs": ["sport"]})
    assert shown["sport_kind"] is True


def test_page_save_checks_only_that_page(inst: Instrument) -> None:
    existing = {"consent": "yes"}
    result = validate_answers(
        inst, {"age": "9"}, existing=existing, only=["age"], check_required=False
    )
    assert result.ok
    assert result.answers == {"consent": "yes", "age": 9, "clubs_n": 0}
    result = validate_answers(inst, {"age": "99"}, existing=existing, only=["age"])
    assert [e.problem for e in result.errors] == [Problem.CONSTRAINT]


def test_unknown_items_are_reported_only_when_strict(inst: Instrument) -> None:
    assert validate_answers(inst, {**good(), "shoe_size": "5"}, today=dt.date(2027, 3, 1)).ok
    strict = validate_answers(
        inst, {**good(), "shoe_size": "5"}, strict_unknown=True, today=dt.date(2027, 3, 1)
    )
    assert [(e.item, e.problem) for e in strict.errors] == [("shoe_size", Problem.UNKNOWN_ITEM)]


def test_over_long_text_is_refused(inst: Instrument) -> None:
    result = validate_answers(inst, {**good(), "sport_kind": "x" * 5000}, today=dt.date(2027, 3, 1))
    assert [e.problem for e in result.errors] == [Problem.TOO_LONG]


CASCADE = b"""
| survey |
| | type | name | label | choice_filter |
| | select_one region | region | Region | |
| | select_one town | town | Town | region = ${region} |
| choices |
| | list_name | name | label | region |
| | region | north | North | |
| | region | south | South | |
| | town | wallsend | Wallsend | north |
| | town | tynemouth | Tynemouth | north |
| | town | hackney | Hackney | south |
| settings |
| | form_id | version |
| | cascade | 1 |
"""


def test_choice_filter_limits_the_choices_offered_and_accepted() -> None:
    from surveys.validation import available_choices

    inst = load_instrument(CASCADE, file_type=".md")
    town = inst.item("town")
    assert town.choice("wallsend").attributes == {"region": "north"}
    offered = available_choices(inst, town, {"region": "north"})
    assert [c.name for c in offered] == ["wallsend", "tynemouth"]
    assert validate_answers(inst, {"region": "south", "town": "hackney"}).ok
    result = validate_answers(inst, {"region": "south", "town": "wallsend"})
    assert [(e.item, e.problem, e.value) for e in result.errors] == [
        ("town", Problem.NOT_A_CHOICE, "wallsend")
    ]
    assert "hackney" in result.errors[0].text()

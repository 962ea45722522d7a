"""Tests for instruments.expressions: XLSForm/ODK expressions with ODK Collect semantics.

Expected values follow JavaRosa (the engine in ODK Collect): XPathFuncExpr, XPathEqExpr
and XPathCmpExpr.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instruments.expressions import (
    FUNCTION_NAMES,
    Expression,
    ExpressionError,
    as_string,
    compile_expression,
)

TODAY = datetime.date(2026, 3, 15)

ANSWERS: dict[str, object] = {
    "age": 12,
    "height": 1.45,
    "zero": 0,
    "name": "Ann Lee",
    "numeric_text": "7",
    "likes": ("football", "music"),
    "no_likes": (),
    "one_like": ("music",),
    "dob": datetime.date(2014, 5, 1),
    "visit": datetime.date(2026, 3, 15),
    "skipped": None,
    "colour": "red",
    "empty_text": "",
}


def evaluate(
    source: str, current: object = None, values: dict[str, object] | None = None
) -> object:
    """Evaluate with the standard answers and a fixed today()."""
    answers = ANSWERS if values is None else values
    return compile_expression(source).evaluate(answers, current=current, today=TODAY)


def is_true(source: str, current: object = None, values: dict[str, object] | None = None) -> bool:
    answers = ANSWERS if values is None else values
    return compile_expression(source).is_true(answers, current=current, today=TODAY)


def same(actual: object, expected: object) -> bool:
    """Equal, with NaN equal to NaN and bool not equal to 1.0."""
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return type(actual) is type(expected) and actual == expected


# --- literals, references and '.' -----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("3", 3.0),
        ("3.25", 3.25),
        (".5", 0.5),
        ("5.", 5.0),
        ("'single'", "single"),
        ('"double"', "double"),
        ("'it''s'", None),  # not XPath 1.0: checked as a syntax error below
        ('"it\'s"', "it's"),
        ("''", ""),
        ("${age}", 12.0),
        ("${height}", 1.45),
        ("${name}", "Ann Lee"),
        ("${likes}", "football music"),
        ("${no_likes}", ""),
        ("${dob}", datetime.date(2014, 5, 1)),
        ("${skipped}", ""),
        ("${not_in_values}", ""),
        ("( ${age} )", 12.0),
        ("concat(')', ',', '(', \"/\")", "),(/"),  # punctuation inside strings is text
    ],
)
def test_literals_and_references(source: str, expected: object) -> None:
    if expected is None:
        with pytest.raises(ExpressionError):
            compile_expression(source)
        return
    assert same(evaluate(source), expected)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (None, ""),
        ("text", "text"),
        (4, 4.0),
        (2.5, 2.5),
        (("a", "b"), "a b"),
        (datetime.date(2020, 1, 2), datetime.date(2020, 1, 2)),
        (True, True),
        (Decimal("2.5"), 2.5),
        (Fraction(1, 4), 0.25),
        (math.nan, ""),  # pandas' missing number is no answer
        ({"name": "a"}, ""),  # a choice row has no text of its own
    ],
)
def test_dot_is_current(current: object, expected: object) -> None:
    assert same(evaluate(".", current=current), expected)


def test_answer_of_unsupported_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"answer \$\{x\} has type object"):
        evaluate("${x}", values={"x": object()})


# --- comparisons ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${age} = 12", True),
        ("${age} = '12'", True),  # number vs string: the string becomes a number
        ("'12.0' = 12", True),
        ("${age} != 12", False),
        ("${age} != 11", True),
        ("${age} < 13", True),
        ("${age} <= 12", True),
        ("${age} > 12", False),
        ("${age} >= 12", True),
        ("${numeric_text} > 6", True),  # text answers holding digits compare as numbers
        ("${numeric_text} = 7", True),
        ("'abc' = 'abc'", True),
        ("'abc' != 'abd'", True),
        ("'b' > 'a'", False),  # XPath orders numbers only: both sides are NaN
        ("'abc' < 3", False),
        ("1 = 1.0000000000001", True),  # JavaRosa's 1e-12 tolerance
        ("true() = 1", True),  # either side boolean: compare as booleans
        ("false() = ''", True),
        ("true() = 'false'", True),  # a non-empty string is true
        ("${colour} = 'red' = true()", True),  # left-associative
        ("1 < 2 < 3", True),  # (1 < 2) < 3 -> 1 < 3
        ("3 > 2 > 1", False),  # (3 > 2) > 1 -> 1 > 1
    ],
)
def test_comparisons(source: str, expected: bool) -> None:
    assert evaluate(source) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'' > 3", False),
        ("'' < 3", False),
        ("'' = 0", False),
        ("'' != 0", True),
        ("${skipped} > 3", False),
        ("${skipped} <= 3", False),
        ("${skipped} = ''", True),
        ("${skipped} != ''", False),
        ("${not_in_values} = ''", True),
        ("${age} = ''", False),
        ("${age} != ''", True),
        ("${empty_text} = ${skipped}", True),
        ("${skipped} = 0", False),
    ],
)
def test_empty_answers_compare_like_odk(source: str, expected: bool) -> None:
    assert evaluate(source) is expected


@pytest.mark.parametrize(
    ("source", "current", "expected"),
    [
        (". <= today()", datetime.date(2026, 3, 15), True),
        (". <= today()", datetime.date(2026, 3, 16), False),
        (". < today()", datetime.date(2026, 3, 14), True),
        (". > today()", None, False),  # unanswered date
        ("${dob} < ${visit}", None, True),
        ("${visit} = today()", None, True),
        ("${dob} = '2014-05-01'", None, True),  # equality compares the ISO text
        ("${dob} != '2014-05-02'", None, True),
        ("${dob} < '2015-01-01'", None, False),  # as in Collect: text is not a date here
        ("${dob} < date('2015-01-01')", None, True),
        ("today() - ${dob} > 365 * 11", None, True),  # dates subtract as days
        ("${dob} = date('2014-05-01')", None, True),
        ("${dob} >= date(16191)", None, True),
        ("${dob} = 16191", None, True),  # date vs number: days since 1970-01-01
    ],
)
def test_date_comparisons(source: str, current: object, expected: bool) -> None:
    assert evaluate(source, current=current) is expected


def test_today_defaults_to_the_server_date() -> None:
    value = compile_expression("today()").evaluate({})
    assert value == datetime.date.today()


# --- logic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true() and true()", True),
        ("true() and false()", False),
        ("false() or true()", True),
        ("false() or false()", False),
        ("not(true())", False),
        ("not(${skipped})", True),
        ("not(${name})", False),
        ("not(0)", True),
        ("not(0 div 0)", True),  # NaN is false
        ("true() or false() and false()", True),  # and binds tighter than or
        ("(true() or false()) and false()", False),
        ("${age} > 10 and ${age} < 13", True),
        ("${age} < 10 or ${colour} = 'red'", True),
        ("boolean('')", False),
        ("boolean('false')", True),
        ("boolean(0.5)", True),
        ("boolean(${dob})", True),
        ("boolean-from-string('true')", True),
        ("boolean-from-string('TRUE')", True),
        ("boolean-from-string('1')", True),
        ("boolean-from-string('yes')", False),
    ],
)
def test_logic(source: str, expected: bool) -> None:
    assert evaluate(source) is expected


def test_and_or_short_circuit() -> None:
    # date('soon') would raise: the right-hand side must not be evaluated
    assert evaluate("false() and date('soon')") is False
    assert evaluate("true() or date('soon')") is True


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${name}", True),
        ("${skipped}", False),
        ("${zero}", False),
        ("${age}", True),
        ("${no_likes}", False),
        ("${dob}", True),
        ("'0'", True),  # a non-empty string is true even if it reads as zero
        ("0 div 0", False),
    ],
)
def test_is_true_is_xpath_boolean(source: str, expected: bool) -> None:
    assert is_true(source) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"age": 11, "likes": ("football",)}, True),
        ({"age": 10, "likes": ("football",)}, False),
        ({"age": 11, "likes": ("music",)}, False),
        ({"age": None, "likes": ("football",)}, False),
        ({}, False),
    ],
)
def test_relevance_example_from_the_brief(values: dict[str, object], expected: bool) -> None:
    rule = compile_expression("${age} >= 11 and selected(${likes}, 'football')")
    assert rule.is_true(values) is expected


# --- arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2", 3.0),
        ("${age} + 1", 13.0),
        ("${age} - 2.5", 9.5),
        ("${age} * 2", 24.0),
        ("${age} div 5", 2.4),
        ("${age} mod 5", 2.0),
        ("-7 mod 3", -1.0),  # the sign of the dividend
        ("7 mod -3", 1.0),
        ("5.5 mod 2", 1.5),
        ("-${age}", -12.0),
        ("- - 3", 3.0),
        ("1 - -1", 2.0),
        ("2 + 3 * 4", 14.0),
        ("(2 + 3) * 4", 20.0),
        ("10 - 4 - 3", 3.0),  # left-associative
        ("8 div 2 div 2", 2.0),
        ("-2 * 3", -6.0),
        ("2 * -3", -6.0),
        ("1 div 0", math.inf),
        ("-1 div 0", -math.inf),
        ("0 div 0", math.nan),
        ("5 mod 0", math.nan),
        ("${skipped} + 1", math.nan),
        ("'abc' * 2", math.nan),
        ("${numeric_text} + 1", 8.0),
        ("true() + 1", 2.0),
        ("${height} * 100", 145.0),
        ("6 div 2 = 3", True),
    ],
)
def test_arithmetic(source: str, expected: object) -> None:
    assert same(evaluate(source), expected)


@pytest.mark.parametrize("name", ["div", "mod", "and", "or"])
def test_operator_words_are_names_where_an_operand_stands(name: str) -> None:
    # In choice_filter, 'div' is a column of the choice row, not the operator.
    assert evaluate(f"{name} = 'x'", current={name: "x"}) is True


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_integer_arithmetic_agrees_with_python(a: int, b: int) -> None:
    values: dict[str, object] = {"a": a, "b": b}
    assert evaluate("${a} + ${b}", values=values) == float(a + b)
    assert evaluate("${a} - ${b}", values=values) == float(a - b)
    assert evaluate("${a} * ${b}", values=values) == float(a * b)
    assert evaluate("${a} < ${b}", values=values) is (a < b)
    assert evaluate("${a} = ${b}", values=values) is (a == b)
    if b:
        assert evaluate("${a} mod ${b}", values=values) == math.fmod(a, b)
        assert evaluate("${a} div ${b}", values=values) == a / b


# --- functions: strings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "current", "expected"),
    [
        ("string-length(${name})", None, 7.0),
        ("string-length(.)", "abc", 3.0),
        ("string-length()", "abcd", 4.0),  # no argument: '.'
        ("string-length(${skipped})", None, 0.0),
        ("string-length(${age})", None, 2.0),
        ("string-length(.) <= 5", "hello", True),
        ("concat('a', 'b', 'c')", None, "abc"),
        ("concat(${name}, ': ', ${age})", None, "Ann Lee: 12"),
        ("concat(${height}, '/', ${skipped}, '/', true())", None, "1.45//true"),
        ("concat(${dob})", None, "2014-05-01"),
        ("concat()", None, ""),
        ("contains(${name}, 'Lee')", None, True),
        ("contains(${name}, 'lee')", None, False),
        ("contains(${name}, '')", None, True),
        ("starts-with(${name}, 'Ann')", None, True),
        ("starts-with(${name}, 'Lee')", None, False),
        ("ends-with(${name}, 'Lee')", None, True),
        ("substr('hello', 1)", None, "ello"),
        ("substr('hello', 1, 3)", None, "el"),  # 0-based, end exclusive
        ("substr('hello', 0, 1)", None, "h"),
        ("substr('hello', -3)", None, "llo"),  # negatives count from the end
        ("substr('hello', 1, -1)", None, "ell"),
        ("substr('hello', 3, 1)", None, ""),
        ("substr('hello', 2, 99)", None, "llo"),
        ("substr('hello', 'x')", None, "hello"),  # NaN counts as 0, as in Java
        ("substr(${age}, 0, 1)", None, "1"),
        ("substring-before('a-b-c', '-')", None, "a"),
        ("substring-after('a-b-c', '-')", None, "b-c"),
        ("substring-before('abc', 'x')", None, ""),
        ("substring-after('abc', 'x')", None, ""),
        ("translate('bar', 'abc', 'ABC')", None, "BAr"),
        ("translate('--aaa--', 'abc-', 'ABC')", None, "AAA"),
        ("normalize-space('  a   b  ')", None, "a b"),
        ("normalize-space()", " x  y ", "x y"),
        ("string(${age})", None, "12"),
        ("string(${height})", None, "1.45"),
        ("string(1 div 3)", None, "0.3333333333333333"),
        ("string(0.00001)", None, "0.00001"),
        ("string(1 div 0)", None, "Infinity"),
        ("string(-1 div 0)", None, "-Infinity"),
        ("string(0 div 0)", None, "NaN"),
        ("string(-0.0)", None, "0"),
        ("string(true())", None, "true"),
        ("string(${likes})", None, "football music"),
        ("string(${dob})", None, "2014-05-01"),
        ("string()", 5, "5"),
    ],
)
def test_string_functions(source: str, current: object, expected: object) -> None:
    assert same(evaluate(source, current=current), expected)


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("E8 1AB", "[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", True),
        ("E8 1AB", "^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", True),
        ("e8 1ab", "[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", False),
        ("12345", "[0-9]{5}", True),
        ("123456", "[0-9]{5}", False),  # the whole value must match
        ("x12345", "\\d{5}", False),
        ("", "[0-9]*", True),
        ("", "[0-9]+", False),
    ],
)
def test_regex_matches_the_whole_value(value: str, pattern: str, expected: bool) -> None:
    assert evaluate(f"regex(., '{pattern}')", current=value) is expected


def test_regex_pattern_from_an_answer() -> None:
    values: dict[str, object] = {"pattern": "[a-z]+"}
    assert evaluate("regex(., ${pattern})", current="abc", values=values) is True
    with pytest.raises(ExpressionError, match=r"pattern '\[' is not a valid regular"):
        evaluate("regex(., ${pattern})", current="abc", values={"pattern": "["})


# --- functions: numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "current", "expected"),
    [
        ("number('12')", None, 12.0),
        ("number(' 12 ')", None, 12.0),
        ("number('1,5')", None, 1.5),  # some locales write a decimal comma
        ("number('-3.5')", None, -3.5),
        ("number('')", None, math.nan),
        ("number('abc')", None, math.nan),
        ("number('1e3')", None, math.nan),  # no exponents in XPath
        ("number('+1')", None, math.nan),
        ("number('1-2')", None, math.nan),
        ("number(true())", None, 1.0),
        ("number(false())", None, 0.0),
        ("number(${dob})", None, 16191.0),
        ("number()", "42", 42.0),
        ("int(3.7)", None, 3.0),
        ("int(-3.7)", None, -3.0),
        ("int('8.9')", None, 8.0),
        ("int(${skipped})", None, math.nan),
        ("int(1 div 0)", None, math.inf),
        ("round(2.5)", None, 3.0),
        ("round(2.4)", None, 2.0),
        ("round(-2.5)", None, -2.0),  # half rounds towards positive infinity
        ("round(-2.6)", None, -3.0),
        ("round(1.005, 2)", None, 1.01),  # decimal rounding, not binary
        ("round(1.2345, 2)", None, 1.23),
        ("round(1234.5, -2)", None, 1200.0),
        ("round(1250, -2)", None, 1300.0),
        ("round(3.14159, 'x')", None, 3.0),  # NaN places count as 0
        ("round(0 div 0)", None, math.nan),
        ("round(1.5, 31)", None, math.nan),
        ("round(pow(10, 300), 2)", None, 1e300),
        ("round(pow(10, 20) + 0.5)", None, 1e20),
        ("abs(-4)", None, 4.0),
        ("pow(2, 10)", None, 1024.0),
        ("pow(0, -1)", None, math.inf),
        ("pow(-8, 0.5)", None, math.nan),
        ("pow(10, 400)", None, math.inf),
    ],
)
def test_number_functions(source: str, current: object, expected: object) -> None:
    assert same(evaluate(source, current=current), expected)


# --- functions: logic -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("if(${age} > 10, 'older', 'younger')", "older"),
        ("if(${age} > 20, 'older', 'younger')", "younger"),
        ("if(${skipped}, 1, 2)", 2.0),
        ("if(true(), ${dob}, 0)", datetime.date(2014, 5, 1)),
        ("if(false(), date('never'), 'safe')", "safe"),  # only the chosen branch runs
        ("coalesce(${skipped}, 'fallback')", "fallback"),
        ("coalesce(${name}, 'fallback')", "Ann Lee"),
        ("coalesce(${zero}, 5)", 0.0),  # zero is a value, not missing
        ("coalesce(0 div 0, 5)", 5.0),  # NaN counts as missing
        ("coalesce(${name}, date('never'))", "Ann Lee"),  # the fallback runs only if needed
        ("true()", True),
        ("false()", False),
    ],
)
def test_logic_functions(source: str, expected: object) -> None:
    assert same(evaluate(source), expected)


# --- functions: select_multiple -------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("selected(${likes}, 'football')", True),
        ("selected(${likes}, 'music')", True),
        ("selected(${likes}, 'foot')", False),  # whole choice names only
        ("selected(${likes}, 'football music')", True),  # as ODK: a space-joined substring
        ("selected(${likes}, ' music ')", True),  # the choice name is trimmed
        ("selected(${no_likes}, 'football')", False),
        ("selected(${skipped}, 'football')", False),
        ("selected(${colour}, 'red')", True),  # works on select_one too
        ("is-selected(${likes}, 'music')", True),
        ("count-selected(${likes})", 2.0),
        ("count-selected(${one_like})", 1.0),
        ("count-selected(${no_likes})", 0.0),
        ("count-selected(${skipped})", 0.0),
        ("count-selected(${likes}) >= 2", True),
        ("selected-at(${likes}, 0)", "football"),
        ("selected-at(${likes}, 1)", "music"),
        ("selected-at(${likes}, 2)", ""),
        ("selected-at(${likes}, -1)", ""),
    ],
)
def test_select_multiple_functions(source: str, expected: object) -> None:
    assert same(evaluate(source), expected)


def test_select_multiple_as_list_or_string() -> None:
    for likes in (["football", "music"], "football music", ("football", "music")):
        assert evaluate("selected(${likes}, 'music')", values={"likes": likes}) is True


# --- functions: dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("today()", TODAY),
        ("date('2020-02-29')", datetime.date(2020, 2, 29)),
        ("date('2020-02-29T10:30:00')", datetime.date(2020, 2, 29)),
        ("date(0)", datetime.date(1970, 1, 1)),
        ("date(-1)", datetime.date(1969, 12, 31)),
        ("date(1.9)", datetime.date(1970, 1, 2)),
        ("date(${dob})", datetime.date(2014, 5, 1)),
        ("date(${skipped})", ""),
        ("date(0 div 0)", math.nan),
        ("date('2020-02-29') + 1", 18322.0),
        ("string(date(18321))", "2020-02-29"),
        ("decimal-date-time('1970-01-02')", 1.0),
        ("decimal-date-time('1970-01-02T12:00:00')", 1.5),
        ("decimal-date-time('1970-01-02T12:00:00+02:00')", 1.0 + 10 / 24),
        ("decimal-date-time(${dob})", 16191.0),
        ("decimal-date-time(2.25)", 2.25),
        ("decimal-date-time(${skipped})", ""),
        ("decimal-date-time(today()) - decimal-date-time(${dob})", 4336.0),
    ],
)
def test_date_functions(source: str, expected: object) -> None:
    assert same(evaluate(source), expected)


def test_datetime_answers_are_dates_with_a_time() -> None:
    moment = datetime.datetime(1970, 1, 3, 6, 0)
    assert evaluate("decimal-date-time(${t})", values={"t": moment}) == 2.25
    assert evaluate("${t} < today()", values={"t": moment}) is True
    assert evaluate("string(${t})", values={"t": moment}) == "1970-01-03T06:00:00"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("date('soon')", "date(): 'soon' is not a date (write dates as 'YYYY-MM-DD')"),
        ("date('2021-02-30')", "date(): '2021-02-30' is not a date"),
        ("date(true())", "date(): true/false value True cannot be converted to a date"),
        ("date(1 div 0)", "date(): inf is out of range for a date"),
        ("date(2147483647)", "date(): 2147483647 is out of range for a date"),
        ("date(-1000000)", "date(): -1000000 is out of range for a date"),
        ("decimal-date-time('later')", "decimal-date-time(): 'later' is not a date"),
        ("decimal-date-time(false())", "decimal-date-time(): true/false value False"),
    ],
)
def test_date_conversion_errors_name_the_value(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(source)
    assert str(caught.value).startswith(f"expression '{source}': {message}")
    assert caught.value.source == source


def test_is_true_reports_evaluation_errors_too() -> None:
    with pytest.raises(ExpressionError, match=r"'soon' is not a date"):
        compile_expression(". < date('soon')").is_true({}, current=datetime.date(2020, 1, 1))


# --- choice_filter: plain names are columns of the choice row -------------------------


@pytest.mark.parametrize(
    ("source", "choice", "values", "expected"),
    [
        ("state = ${state}", {"name": "a", "state": "x"}, {"state": "x"}, True),
        ("state = ${state}", {"name": "a", "state": "y"}, {"state": "x"}, False),
        ("./state = ${state}", {"name": "a", "state": "x"}, {"state": "x"}, True),
        ("selected(${fruits}, name)", {"name": "pear"}, {"fruits": ("apple", "pear")}, True),
        ("selected(${fruits}, name)", {"name": "fig"}, {"fruits": ("apple", "pear")}, False),
        ("min_age <= ${age}", {"min_age": 11}, {"age": 12}, True),
        ("missing_column = ''", {"name": "a"}, {}, True),
        ("state = 'x'", "not a row", {}, False),
    ],
)
def test_choice_filter_names(
    source: str, choice: object, values: dict[str, object], expected: bool
) -> None:
    assert compile_expression(source).is_true(values, current=choice) is expected


# --- references -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "references"),
    [
        ("1 + 1", set()),
        (". > 3", set()),
        ("${age}", {"age"}),
        ("${age} >= 11 and selected(${likes}, 'football')", {"age", "likes"}),
        ("${a} + ${a} + ${b}", {"a", "b"}),
        ("if(${q1}, concat(${q2.x}, ${q-3}), ${_q4})", {"q1", "q2.x", "q-3", "_q4"}),
        ("'${not_a_reference}'", set()),  # inside a string literal
        ("${ spaced }", {"spaced"}),
        ("${école} = 'oui'", {"école"}),
    ],
)
def test_references(source: str, references: set[str]) -> None:
    assert compile_expression(source).references == frozenset(references)


# --- syntax errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("${age > 3", "unbalanced ${...} at character 1: '}' is missing"),
        ("${age > 3 and ${b}", "unbalanced ${...} at character 1"),
        ("${} = 1", "empty ${} at character 1"),
        ("${a b} = 1", "${a b} at character 1: 'a b' is not a valid question name"),
        ("${1a} = 1", "${1a} at character 1: '1a' is not a valid question name"),
        ("$age > 3", "'$age' at character 1: refer to questions as ${age}, with braces"),
        ("${a} = 'yes", "unterminated string starting at character 8: add the closing '"),
        ('${a} = "yes', 'unterminated string starting at character 8: add the closing "'),
        ("${a} = ‘yes’", "curly quote ‘ at character 8: use straight quotes"),
        ("${a} = “yes”", "curly quote “ at character 8"),
        ("${a} # 3", "unexpected character '#' at character 6"),
        ("${a} == 3", "unexpected '=' at character 7"),
        ("${a} >", "ends too early: something is missing after '>'"),
        ("${a} and", "ends too early: something is missing after 'and'"),
        ("-", "ends too early: something is missing after '-'"),
        ("(1 + 2", "'(' at character 1 is never closed: add ')'"),
        ("(1 + 2))", "unexpected ')' at character 8"),
        ("concat('a', 'b'", "'(' at character 7 is never closed"),
        ("concat('a' 'b')", "expected ',' or ')' in the call to concat() at character 12"),
        ("concat('a',)", "unexpected ')' at character 12"),
        ("1 2", "unexpected '2' at character 3"),
        ("${a} ${b}", "unexpected ${b} at character 6"),
        ("'a' 'b'", "unexpected 'b' at character 5"),
        ("/data/age > 3", "'/' at character 1: only ${name}, '.' and plain names are supported"),
        ("../age > 3", "'..' at character 1"),
        ("${a}[1]", "'[' at character 5"),
        ("${a} | ${b}", "'|' at character 6"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("selected(${a}, 1)", "the second argument of selected() must be a choice name in quotes"),
        ("regex(., '[a-')", "regex(): pattern '[a-' is not a valid regular expression"),
    ],
)
def test_syntax_errors_say_what_is_wrong(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert str(caught.value).startswith(f"expression '{source}': {message}")
    assert caught.value.detail.startswith(message)


@pytest.mark.parametrize(
    "source",
    ["(" * 5000 + "1" + ")" * 5000, "-" * 5000 + "1", "not(" * 2000 + "1" + ")" * 2000],
    ids=["parentheses", "minus", "calls"],
)
def test_absurd_nesting_is_an_expression_error(source: str) -> None:
    with pytest.raises(ExpressionError, match="is nested too deeply to evaluate"):
        compile_expression(source)


def test_very_long_operator_chains_evaluate_or_fail_cleanly() -> None:
    forty = " + ".join(f"${{q{n}}}" for n in range(40))
    assert evaluate(forty, values={f"q{n}": 1 for n in range(40)}) == 40.0
    absurd = compile_expression(" + ".join(["1"] * 5000))
    with pytest.raises(ExpressionError, match="is nested too deeply to evaluate"):
        absurd.evaluate({})


def test_expression_error_survives_pickling() -> None:
    error = ExpressionError("${a", "unbalanced")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301  # our own bytes, just made
    assert (str(copy), copy.source, copy.detail) == (str(error), "${a", "unbalanced")


def test_expression_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^expression '\$\{age > 3': unbalanced \$\{\.\.\.\}"):
        compile_expression("${age > 3")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("foo(1)", "unknown function 'foo()'"),
        ("jr:choice-name(${a}, '${a}')", "unknown function 'jr:choice-name()'"),
        ("now()", "unknown function 'now()'"),
        ("count(${a})", "unknown function 'count()'"),
        ("substring(${a}, 1)", "unknown function 'substring()' (did you mean 'substr()'?)"),
        (
            "count-selectd(${a})",
            "unknown function 'count-selectd()' (did you mean 'count-selected()'?)",
        ),
        ("Selected(${a}, 'x')", "unknown function 'Selected()' (did you mean 'selected()'?)"),
        ("if(1, 2)", "if() takes 3 arguments, not 2"),
        ("not()", "not() takes 1 argument, not 0"),
        ("true(1)", "true() takes no arguments, not 1"),
        ("round(1, 2, 3)", "round() takes 1 or 2 arguments, not 3"),
        ("substr('a')", "substr() takes 2 or 3 arguments, not 1"),
        ("coalesce(${a})", "coalesce() takes 2 arguments, not 1"),
    ],
)
def test_unknown_functions_and_arity_fail_at_compile_time(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert str(caught.value) == f"expression '{source}': {message}"


def test_every_required_function_is_known() -> None:
    required = {
        "not", "selected", "count-selected", "string-length", "if", "coalesce", "today",
        "concat", "contains", "starts-with", "substr", "number", "int", "round", "string",
        "boolean", "true", "false", "regex", "date", "decimal-date-time",
    }  # fmt: skip
    assert required <= FUNCTION_NAMES


# --- the Expression object ------------------------------------------------------------


def test_compile_is_cached() -> None:
    assert compile_expression("${age} > 1") is compile_expression("${age} > 1")


def test_expression_is_frozen_and_hashable() -> None:
    expression = compile_expression("${a} = 1")
    assert isinstance(expression, Expression)
    assert expression.source == "${a} = 1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "2"  # type: ignore[misc]
    assert len({expression, compile_expression("${a} = 1")}) == 1
    assert "${a} = 1" in repr(expression)


def test_whitespace_and_newlines_are_ignored() -> None:
    assert evaluate("\n  ${age}\n\t>= 11\n  and ${colour}='red'  ") is True


# --- as_string: what ODK stores for a calculation -------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (6.0, "6"),
        (0.5, "0.5"),
        (-2.0, "-2"),
        (1e-5, "0.00001"),
        (1e21, "1000000000000000000000"),
        (math.nan, ""),  # a calculation on unanswered items stores no answer
        (True, "true"),
        (False, "false"),
        ("text", "text"),
        (datetime.date(2026, 3, 1), "2026-03-01"),
        (None, ""),
        (7, "7"),
        (("a", "b"), "a b"),
    ],
)
def test_as_string(value: object, text: str) -> None:
    assert as_string(value) == text


def test_calculation_round_trip() -> None:
    total = compile_expression("${a} + ${b}").evaluate({"a": 2, "b": 3})
    assert as_string(total) == "5"

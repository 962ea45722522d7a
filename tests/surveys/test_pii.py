"""PII screening of quotes: what is flagged, what is not, and redaction."""

from __future__ import annotations

import pytest

from surveys.pii import FIRST_NAMES, redact, school_patterns, screen

SCHOOLS = ["Millfields Community School", "Jubilee Primary School", "St Dominic's RC Primary"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My son Jayden loves the park", [("name", "Jayden")]),
        ("Ring me on 07700 900123 any time", [("phone", "07700 900123")]),
        ("or +44 7700 900 123", [("phone", "+44 7700 900 123")]),
        ("landline (020) 7946 0958", [("phone", "(020) 7946 0958")]),
        ("email jo.bloggs+pv@example.co.uk", [("email", "jo.bloggs+pv@example.co.uk")]),
        ("we are at E8 1DY now", [("postcode", "E8 1DY")]),
        ("lowercase postcode sw1a 1aa too", [("postcode", "sw1a 1aa")]),
        ("we live at 14 Amhurst Road", [("address", "14 Amhurst Road")]),
        ("Flat 3, 12 Sandringham Close is damp", [("address", "Flat 3, 12 Sandringham Close")]),
        ("The kids at Millfields are lovely", [("school", "Millfields")]),
        ("Jubilee Primary has a breakfast club", [("school", "Jubilee Primary")]),
        ("St Dominic's RC Primary is full", [("school", "St Dominic's RC Primary")]),
        ("Mary-Jane from the hub helped", [("name", "Mary-Jane")]),
    ],
)
def test_flags_identifiers(text, expected):
    spans = screen(text, school_names=SCHOOLS)
    assert [(s.kind, s.text) for s in spans] == expected
    for span in spans:
        assert text[span.start : span.end] == span.text


@pytest.mark.parametrize(
    "text",
    [
        "The park is good for children and the library is free.",
        "Will there be more buses? May is the best month.",  # sentence-initial everyday words
        "There were 2012 incidents and 45 people came.",
        "I rang the council 3 times.",
        "Rents are too high, nowhere for teenagers to go.",
    ],
)
def test_does_not_flag_ordinary_answers(text):
    assert screen(text, school_names=SCHOOLS) == []


def test_everyday_names_are_flagged_mid_sentence():
    spans = screen("I told Will about it.")
    assert [(s.kind, s.text) for s in spans] == [("name", "Will")]


def test_redact_replaces_spans_with_labels():
    text = "Ask Sophie at 4 Mill Lane, E5 0LL, or sophie@example.org about Jubilee Primary School"
    spans = screen(text, school_names=SCHOOLS)
    assert redact(text, spans) == "Ask [name] at [address], [postcode], or [email] about [school]"
    assert screen(redact(text, spans), school_names=SCHOOLS) == []


def test_overlapping_matches_keep_the_longest():
    spans = screen("Contact Jubilee Primary School office", school_names=SCHOOLS)
    assert [(s.kind, s.text) for s in spans] == [("school", "Jubilee Primary School")]


def test_school_stems_need_four_letters():
    patterns = [p.pattern for p in school_patterns(["Oak School", "Hackney Free School"])]
    assert r"\bOak\ School\b" in patterns and r"\bOak\b" not in patterns
    assert any("Hackney" in p and "Free" not in p for p in patterns)


def test_name_list_is_small_and_lowercase():
    assert 200 < len(FIRST_NAMES) < 1000
    assert all(n == n.lower() and n.isalpha() for n in FIRST_NAMES)

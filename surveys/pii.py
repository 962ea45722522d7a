"""Screening open answers for personal information before a quote is used.

:func:`screen` flags spans that may identify someone: first names (from a small curated
list shipped here), UK phone numbers, email addresses, street addresses and postcodes,
and the names of the community's schools. It is a safety net for a human coder, who
decides what to redact: it flags generously and never edits on its own.
:func:`redact` replaces chosen spans with a bracketed label such as ``[name]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["FIRST_NAMES", "KINDS", "Span", "redact", "school_patterns", "screen"]

#: What a flagged span may be, with the placeholder a redaction puts in its place.
KINDS = {
    "name": "[name]",
    "phone": "[phone]",
    "email": "[email]",
    "address": "[address]",
    "postcode": "[postcode]",
    "school": "[school]",
}

#: Common first names in England and Wales (ONS baby-name lists, several decades,
#: curated by hand for the communities' populations). Kept small on purpose: it catches
#: the usual slip ("my son Jayden"), the coder catches the rest.
FIRST_NAMES = frozenset(
    """
    aaliyah aaron abdul abdullah abigail adam adrian ahmed aisha aiden alan albert alex
    alexander alfie alice alicia amber amelia amir amy andrea andrew angela ann anna anne
    annie anthony archie arthur asha ashley aya ayesha barbara ben benjamin beth bethany
    betty bilal billy bob bobby brandon brian callum cameron carl carol caroline catherine
    charlie charlotte chloe chris christine christopher claire connor craig dale daniel
    danny darren david dawn dean debbie declan denise dennis derek diane dominic donna
    dylan edward eleanor elijah elizabeth ella ellie emily emma eric erin ethan eva evie
    fatima finley florence francesca frank freddie freya gareth gary george georgia gemma
    gordon hannah harley harper harry harvey hassan hayley heather helen henry holly hussein
    ibrahim imran isaac isabella isabelle isla ivy jack jackie jacob jade jake james jamie
    jane janet jasmine jason jayden jennifer jenny jessica joan joanne joe john jordan
    joseph joshua julie karen kate katie kayden kelly kerry kevin kieran kyle laura lauren
    layla leah lee leo leon lewis liam lily lisa logan louis louise lucas lucy luke lynn
    maisie malik margaret maria mariam marie mark martin mary matilda matthew maya megan
    mia michael michelle millie mohammed mohammad muhammad mohamed molly muhammed nadia
    naomi natalie nathan neil nicola nicole noah nora oliver olivia omar oscar owen paige
    patricia paul pauline peter philip phoebe poppy rachel rebecca reece rhys richard riley
    robert roman ronnie rosie ruby ryan sadie samantha sam samuel sandra sara sarah scarlett
    scott sean sebastian shannon sharon shaun sienna sofia sophia sophie stacey stanley
    stephanie stephen steven stuart susan tariq teddy theo thomas tom tommy tony tracey
    tyler usman victoria william willow yasmin yusuf zach zachary zara zainab zoe
    agnieszka anna katarzyna magdalena marta tomasz piotr krzysztof pawel jakub kacper
    """.split()
)

#: First names that are also everyday words: flagged only away from a sentence start.
_AMBIGUOUS_NAMES = frozenset(
    "bob dawn faith grace hope ivy joy mark may rose ruby will willow lily holly amber".split()
)

_WORD = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: +44 or 0, then 9-10 more digits with optional spaces, dashes or brackets.
_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?\s?|\(?0)\d(?:[\s\-()]{0,2}\d){8,9}(?!\d)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_STREET_WORDS = (
    "Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Way|Drive|Gardens|Court|Place|Crescent|"
    "Terrace|Grove|Walk|Row|Square|Mews|Estate|Parade|Rise|View"
)
_STREET = re.compile(
    rf"\b(?:(?:[Ff]lat|[Nn]o\.?)\s*\d+[a-z]?,?\s+)?(?:\d{{1,4}}[a-z]?,?\s+)?"
    rf"(?:[A-Z][a-z']+\s+){{1,3}}(?:{_STREET_WORDS})\b\.?",
)
_SCHOOL_SUFFIX = re.compile(
    r"\s+(?:C of E |CE |RC |Catholic |Community |Church of England )?"
    r"(?:Primary|Secondary|Junior|Infant|Nursery|High|Academy|School|College|"
    r"Free School|Church)(?:\s+(?:School|Academy|College))*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, order=True)
class Span:
    """One flagged piece of text: ``text[start:end]`` may identify someone."""

    start: int
    end: int
    kind: str
    text: str

    @property
    def placeholder(self) -> str:
        """What :func:`redact` writes in its place."""
        return KINDS[self.kind]


def school_patterns(school_names: Iterable[str]) -> list[re.Pattern[str]]:
    """Patterns for each school's full name and its distinctive stem.

    ``"Millfields Community Primary School"`` also matches ``"Millfields"`` alone;
    a stem shorter than four letters is not used on its own.
    """
    phrases: set[str] = set()
    for raw in school_names:
        name = " ".join(str(raw).split())
        if not name:
            continue
        phrases.add(name)
        without_school = re.sub(r"\s+School$", "", name, flags=re.IGNORECASE)
        if len(without_school) >= 4:
            phrases.add(without_school)
        stem = _SCHOOL_SUFFIX.sub("", name).strip()
        if len(stem) >= 4 and stem.lower() != name.lower():
            phrases.add(stem)
    ordered = sorted(phrases, key=len, reverse=True)
    return [re.compile(rf"\b{re.escape(p)}\b", re.IGNORECASE) for p in ordered]


def _sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in ".!?\n\"'“"


def screen(text: str, *, school_names: Iterable[str] = ()) -> list[Span]:
    """Spans of ``text`` that may be personal information, in order, not overlapping.

    Examples
    --------
    >>> [(s.kind, s.text) for s in screen("Ring Jayden on 07700 900123 at 4 Mill Lane")]
    [('name', 'Jayden'), ('phone', '07700 900123'), ('address', '4 Mill Lane')]
    """
    found: list[Span] = []

    def add(match: re.Match[str], kind: str) -> None:
        found.append(Span(match.start(), match.end(), kind, match.group(0)))

    for match in _EMAIL.finditer(text):
        add(match, "email")
    for match in _PHONE.finditer(text):
        add(match, "phone")
    for match in _POSTCODE.finditer(text):
        add(match, "postcode")
    for pattern in school_patterns(school_names):
        for match in pattern.finditer(text):
            add(match, "school")
    for match in _STREET.finditer(text):
        add(match, "address")
    for match in _WORD.finditer(text):
        word = match.group(0).lower()
        parts = word.split("-")
        if not all(p in FIRST_NAMES or p in _AMBIGUOUS_NAMES for p in parts):
            continue
        if word in _AMBIGUOUS_NAMES and _sentence_start(text, match.start()):
            continue
        add(match, "name")
    return _without_overlaps(found)


_PRIORITY = {"email": 0, "phone": 1, "postcode": 2, "school": 3, "address": 4, "name": 5}


def _without_overlaps(spans: Sequence[Span]) -> list[Span]:
    """Keep the longest (then most specific) of overlapping spans."""
    ranked = sorted(spans, key=lambda s: (-(s.end - s.start), _PRIORITY[s.kind], s.start))
    kept: list[Span] = []
    for span in ranked:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept)


def redact(text: str, spans: Iterable[Span]) -> str:
    """``text`` with each span replaced by its placeholder.

    Examples
    --------
    >>> redact("Email jo@example.org", screen("Email jo@example.org"))
    'Email [email]'
    """
    out: list[str] = []
    position = 0
    for span in sorted(spans):
        if span.start < position:
            continue
        out.append(text[position : span.start])
        out.append(span.placeholder)
        position = span.end
    out.append(text[position:])
    return "".join(out)

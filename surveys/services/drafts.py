"""Draft responses: start, save page by page, resume, and submit exactly once.

A pupil or resident answers on the server: every page is validated with
:func:`surveys.validation.validate_answers` and saved into a ``draft`` response, so the
flow works without JavaScript, survives a dead laptop (resume with the short resume word
shown on every page) and cannot lose answers to an expired session. Submission is
:mod:`surveys.services.submit`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import Instrument
from instruments.model import Page
from surveys.models import (
    AccessCode,
    Response,
    SchoolClass,
    Site,
    utcnow,
)
from surveys.services.codes import normalise_code
from surveys.services.setup import instrument_of, password_hasher
from surveys.validation import Validated, relevant_items, validate_answers

__all__ = [
    "ANSWERING_WINDOW",
    "POSTCODE_ITEM",
    "ClassCounts",
    "DraftError",
    "DraftProblem",
    "area_for_postcode",
    "check_teacher_pin",
    "class_counts",
    "find_code",
    "match_postcode",
    "new_resume_word",
    "page_layout",
    "resume_draft",
    "save_page",
    "set_language",
    "set_teacher_pin",
    "start_draft",
    "visible_pages",
]

#: The item residents are asked early, to place them in an area.
POSTCODE_ITEM = "postcode"

#: Short, friendly, easy to spell words for resume words ("sunny-otter-42").
WORDS_A = (
    "amber", "brave", "bright", "calm", "clever", "cosy", "curly", "daring", "early",
    "fancy", "fast", "fluffy", "friendly", "funny", "gentle", "giant", "golden", "green",
    "happy", "jolly", "kind", "lucky", "merry", "mighty", "misty", "noble", "orange",
    "pink", "plucky", "proud", "purple", "quick", "quiet", "rapid", "red", "rosy", "shiny",
    "silly", "silver", "sleepy", "smart", "snowy", "sparkly", "speedy", "spotty", "stripy",
    "sunny", "super", "swift", "tiny", "wavy", "windy", "wise", "witty", "yellow", "zesty",
)  # fmt: skip
WORDS_B = (
    "badger", "banana", "beaver", "bee", "bird", "button", "camel", "castle", "cloud",
    "comet", "cookie", "daisy", "dolphin", "dragon", "duck", "eagle", "falcon", "fox",
    "frog", "gecko", "giraffe", "hedgehog", "hippo", "kite", "koala", "lemon", "lion",
    "llama", "mango", "moon", "moose", "otter", "owl", "panda", "parrot", "peach",
    "penguin", "pirate", "planet", "puffin", "rabbit", "robin", "rocket", "seal", "shark",
    "snail", "star", "tiger", "tortoise", "tulip", "turtle", "walrus", "whale", "wombat",
    "yak", "zebra",
)  # fmt: skip


class DraftProblem(Enum):
    """What can stop a respondent; the web layer words each one for its reader."""

    UNKNOWN_CODE = "that code was not recognised"
    REVOKED = "that code has been withdrawn"
    USED_UP = "that code has already been used"
    WAVE_CLOSED = "the survey is closed"
    WAVE_NOT_OPEN = "the survey has not opened yet"
    NO_DRAFT = "no unfinished survey matches that code and resume word"
    NOT_DRAFT = "that survey has already been sent"


class DraftError(ValueError):
    """A request a respondent cannot make, with the reason."""

    def __init__(self, problem: DraftProblem) -> None:
        self.problem = problem
        super().__init__(problem.value)


# --- codes ------------------------------------------------------------------------------


def _check_wave(code: AccessCode) -> None:
    if code.wave.status == "closed":
        raise DraftError(DraftProblem.WAVE_CLOSED)
    if code.wave.status != "open":
        raise DraftError(DraftProblem.WAVE_NOT_OPEN)


def find_code(session: Session, text: str, *, starting: bool = True) -> AccessCode:
    """The usable access code someone typed (any case, spaces and dashes ignored).

    ``starting`` False skips the "used up" check (resuming with a one-time token).
    """
    normal = normalise_code(text)
    code = session.scalar(select(AccessCode).where(AccessCode.code == normal)) if normal else None
    if code is None:
        raise DraftError(DraftProblem.UNKNOWN_CODE)
    retired = (
        code.wave.retired_at is not None
        or (code.site is not None and code.site.retired_at is not None)
        or (code.school_class is not None and code.school_class.retired_at is not None)
    )
    if code.revoked or retired:
        raise DraftError(DraftProblem.REVOKED)
    _check_wave(code)
    if starting and code.max_uses is not None and code.uses >= code.max_uses:
        raise DraftError(DraftProblem.USED_UP)
    return code


# --- resume words ----------------------------------------------------------------------


def _draft_scope(code: AccessCode) -> Any:
    """Open drafts a resume word must be unique among: the class's, else the code's."""
    if code.class_id is not None:
        return (Response.class_id == code.class_id) & (Response.wave_id == code.wave_id)
    return Response.access_code_id == code.id


def new_resume_word(session: Session, code: AccessCode) -> str:
    """A word pair and two digits, e.g. ``sunny-otter-42``, unique among open drafts."""
    for _ in range(50):
        word = f"{secrets.choice(WORDS_A)}-{secrets.choice(WORDS_B)}-{secrets.randbelow(90) + 10}"
        taken = session.scalar(
            select(Response.id).where(
                _draft_scope(code), Response.status == "draft", Response.resume_word == word
            )
        )
        if taken is None:
            return word
    raise RuntimeError("could not find a free resume word")  # pragma: no cover


def _canonical_word(text: str) -> str:
    """What someone typed as a resume word, as stored: ``sunny-otter-42``."""
    parts = re.findall(r"[a-z]+|[0-9]+", text.lower())
    letters = "".join(p for p in parts if p.isalpha())
    digits = "".join(p for p in parts if p.isdigit())
    for first in WORDS_A:
        if letters.startswith(first) and letters[len(first) :] in WORDS_B:
            return f"{first}-{letters[len(first) :]}-{digits}"
    return "-".join(parts)


# --- starting and resuming -------------------------------------------------------------


def start_draft(
    session: Session, *, code: AccessCode, language: str = "", now: dt.datetime | None = None
) -> Response:
    """A new draft response through ``code`` (counted as one use of the code)."""
    _check_wave(code)
    if code.max_uses is not None and code.uses >= code.max_uses:
        raise DraftError(DraftProblem.USED_UP)
    instrument = instrument_of(code.instrument_version)
    now = now or utcnow()
    draft = Response(
        wave_id=code.wave_id,
        site_id=code.site_id,
        class_id=code.class_id,
        instrument_version_id=code.instrument_version_id,
        channel="class" if code.kind == "class" else "web",
        status="draft",
        language=language if language in instrument.languages else instrument.default_language,
        answers={},
        resume_word=new_resume_word(session, code),
        access_code_id=code.id,
        started_at=now,
        updated_at=now,
    )
    code.uses = (code.uses or 0) + 1
    session.add(draft)
    session.flush()
    return draft


def resume_draft(session: Session, *, code_text: str, word: str) -> Response:
    """The open draft for this access code and resume word."""
    code = find_code(session, code_text, starting=False)
    canonical = _canonical_word(word)
    draft = session.scalar(
        select(Response).where(
            _draft_scope(code), Response.status == "draft", Response.resume_word == canonical
        )
    )
    if draft is None or not canonical:
        raise DraftError(DraftProblem.NO_DRAFT)
    return draft


# --- pages ------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.-]*)\}")
_LAYOUTS: dict[tuple[str, str, int, bool], tuple[Page, ...]] = {}


def page_layout(instrument: Instrument, *, early_postcode: bool = False) -> tuple[Page, ...]:
    """The screens of the flow, built from :meth:`Instrument.pages`.

    A page is split where a question depends (by relevance) on an earlier question on the
    same page, so relevance is always decided on the server between pages. Note-only pages
    are left out (the check-answers page ends the flow). With ``early_postcode`` the
    postcode question becomes the first page, so a resident is placed in an area early.
    """
    cache_key = (instrument.id, instrument.version, hash(instrument.source_bytes), early_postcode)
    cached = _LAYOUTS.get(cache_key)
    if cached is not None:
        return cached
    pages: list[Page] = []
    has_postcode = early_postcode and instrument.has_item(POSTCODE_ITEM)
    if has_postcode:
        pages.append(Page(key=POSTCODE_ITEM, items=(POSTCODE_ITEM,)))
    for page in instrument.pages():
        items = [n for n in page.items if not (has_postcode and n == POSTCODE_ITEM)]
        current: list[str] = []
        key = page.key
        for name in items:
            refs = set(_REFERENCE.findall(instrument.item(name).relevant))
            if current and refs & set(current):
                pages.append(Page(key=key, items=tuple(current), group=page.group))
                current, key = [], name
            current.append(name)
        if current:
            pages.append(Page(key=key, items=tuple(current), group=page.group))
    result = tuple(p for p in pages if any(instrument.item(n).answerable for n in p.items))
    _LAYOUTS[cache_key] = result
    return result


def visible_pages(
    instrument: Instrument, layout: Sequence[Page], answers: Mapping[str, Any]
) -> list[Page]:
    """The pages that apply, given the answers so far (each has a relevant question)."""
    relevance = relevant_items(instrument, answers)
    return [
        page
        for page in layout
        if any(relevance.get(n) and instrument.item(n).answerable for n in page.items)
    ]


def _ensure_draft(response: Response) -> None:
    if response.status != "draft":
        raise DraftError(DraftProblem.NOT_DRAFT)
    if response.wave.status == "closed":
        raise DraftError(DraftProblem.WAVE_CLOSED)


def save_page(
    session: Session,
    response: Response,
    *,
    raw: Mapping[str, object],
    items: Iterable[str],
    now: dt.datetime | None = None,
) -> Validated:
    """Validate and save one page's answers; valid answers are kept even beside errors.

    An answer with an error keeps its earlier saved value (if any); the caller shows the
    page again with what was typed and the errors.
    """
    _ensure_draft(response)
    instrument = instrument_of(response.instrument_version)
    existing = dict(response.answers or {})
    validated = validate_answers(
        instrument, raw, existing=existing, only=list(items), check_required=False
    )
    answers = dict(validated.answers)
    for error in validated.errors:
        if error.item in existing:
            answers[error.item] = existing[error.item]
        else:
            answers.pop(error.item, None)
    response.answers = answers
    response.updated_at = now or utcnow()
    session.flush()
    return validated


def set_language(response: Response, language: str) -> bool:
    """Change a draft's language, if the instrument has it; True when changed."""
    instrument = instrument_of(response.instrument_version)
    if response.status != "draft" or language not in instrument.languages:
        return False
    response.language = language
    return True


# --- postcodes ----------------------------------------------------------------------------


def _postcode_parts(text: str) -> tuple[str, str]:
    """(outward code, sector digit) of a full or partial postcode, upper case."""
    cleaned = re.sub(r"[^A-Z0-9 ]", "", text.upper()).strip()
    if " " in cleaned:
        outward, rest = cleaned.split(None, 1)
        return outward, rest.strip()[:1]
    if len(cleaned) >= 5:  # a full postcode typed without its space: inward code is 3 long
        return cleaned[:-3], cleaned[-3]
    return cleaned, ""


def match_postcode(postcode: str, prefixes: str) -> int:
    """How specifically ``prefixes`` (space-separated) cover ``postcode``; 0 = not at all.

    A prefix is a postcode area ("E"), district ("E8") or sector ("E8 1"); the score is
    the length of the longest matching prefix, so the most specific area wins.
    """
    outward, sector = _postcode_parts(postcode)
    if not outward:
        return 0
    letters = re.match(r"[A-Z]+", outward)
    best = 0
    tokens = prefixes.upper().split()
    i = 0
    while i < len(tokens):
        prefix = tokens[i]
        # "E8 1" is written with a space, so a lone digit after a district is its sector
        if i + 1 < len(tokens) and tokens[i + 1].isdigit() and len(tokens[i + 1]) == 1:
            prefix_sector = tokens[i + 1]
            i += 2
        else:
            prefix_sector = ""
            i += 1
        if prefix.isalpha():
            matched = letters is not None and letters.group(0) == prefix
        else:
            matched = prefix == outward and (not prefix_sector or prefix_sector == sector)
        if matched:
            best = max(best, len(prefix) + len(prefix_sector))
    return best


def area_for_postcode(session: Session, community_id: int, postcode: str) -> Site | None:
    """The community's area whose postcode prefixes match best (longest prefix)."""
    best: tuple[int, Site] | None = None
    areas = session.scalars(
        select(Site).where(Site.community_id == community_id, Site.kind == "area")
    )
    for area in areas:
        score = match_postcode(postcode, area.postcodes or "")
        if score and (best is None or score > best[0]):
            best = (score, area)
    return best[1] if best else None


# --- teachers -------------------------------------------------------------------------------


#: A draft saved within this long counts as a pupil answering now (about a lesson).
ANSWERING_WINDOW = dt.timedelta(minutes=60)


@dataclass(frozen=True)
class ClassCounts:
    """How many pupils in a class have started, are answering now and have finished; never who.

    ``started`` counts every response of the class in the wave, so a pupil who typed the
    class code again (rather than their resume word) counts twice; ``answering`` counts
    only drafts saved within :data:`ANSWERING_WINDOW`, which is what a teacher watching the
    lesson wants to see.
    """

    started: int
    answering: int
    finished: int
    size: int | None


def class_counts(
    session: Session, *, class_id: int, wave_id: int, now: dt.datetime | None = None
) -> ClassCounts:
    """Started, answering now and finished (submitted) for a class in a wave."""
    recent = (now or utcnow()) - ANSWERING_WINDOW
    rows = session.execute(
        select(
            Response.status,
            func.count(Response.id),
            func.count(Response.id).filter(Response.updated_at >= recent),
        )
        .where(Response.class_id == class_id, Response.wave_id == wave_id)
        .group_by(Response.status)
    ).all()
    finished = sum(int(n) for status, n, _ in rows if status != "draft")
    drafts = [(int(n), int(active)) for status, n, active in rows if status == "draft"]
    size = session.scalar(select(SchoolClass.size).where(SchoolClass.id == class_id))
    return ClassCounts(
        started=finished + sum(n for n, _ in drafts),
        answering=sum(active for _, active in drafts),
        finished=finished,
        size=size,
    )


def set_teacher_pin(school_class: SchoolClass, pin: str) -> None:
    """Store an argon2 hash of the class's teacher PIN (empty removes it)."""
    pin = pin.strip()
    school_class.teacher_pin_hash = password_hasher().hash(pin) if pin else ""


def check_teacher_pin(school_class: SchoolClass, pin: str) -> bool:
    """Whether ``pin`` opens the class's live count page."""
    if not school_class.teacher_pin_hash or not pin.strip():
        return False
    try:
        return password_hasher().verify(school_class.teacher_pin_hash, pin.strip())
    except (VerificationError, InvalidHashError):
        return False

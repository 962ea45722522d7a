"""The demo's planted panel: pupils who answered both waves, with codes typed imperfectly.

Every pupil gets a self-generated identification code (mum's initial, day of birth, older
siblings, street initial, drawn from plausible distributions). In the current wave, most
pupils in a year group above one the school also had last year are the *same* pupils,
one year on: :data:`RETURNING` of them, drawn from last year's year group below. Their codes
are retyped with known error rates (:data:`ONE_TYPO`, :data:`TWO_TYPOS`); any pupil may
leave a code question unanswered (:data:`MISSING_PART`). Two answers change within the
returning pupils by a known amount (:data:`PLANTED`), so the paired analysis has something
real to find. After both waves are stored the current wave is linked, and the links are
checked against the truth planted here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments.model import Instrument
from surveys.models import Community, Wave
from surveys.models.panel import PanelLink
from surveys.services.panel.codes import community_key, store_codes
from surveys.services.panel.linking import link_waves

__all__ = [
    "DEMO_CODE_SECRET",
    "MISSING_PART",
    "ONE_TYPO",
    "PLANTED",
    "RETURNING",
    "TWO_TYPOS",
    "DemoPanel",
    "PanelCheck",
    "PanelTruth",
    "plant_panel",
]

#: The key the demo's codes are stored under when no secret key is given (demo data only).
DEMO_CODE_SECRET = "placevoice-demo-only-code-secret"  # noqa: S105 - fictional demo data

#: Share of a year group's pupils in the current wave who also answered last year.
RETURNING = 0.8
#: Chance that a returning pupil's code differs from last year's in one character ...
ONE_TYPO = 0.12
#: ... or in two characters.
TWO_TYPOS = 0.05
#: Chance that a pupil leaves one code question unanswered.
MISSING_PART = 0.03
#: Planted change among returning pupils: item -> chance that an answer that was not
#: positive last year moves one choice towards the positive end.
PLANTED: dict[str, float] = {"belong_school": 0.45, "adult_school": 0.35}

_LETTERS = "ABCDEFGHIJKLMNOPRSTVWYZ"
#: Rough shares of first letters of mothers' first names and of street names.
_CARER = np.array([8, 2, 7, 5, 5, 2, 3, 3, 2, 9, 7, 8, 9, 3, 1, 2, 4, 10, 4, 2, 2, 1, 1], float)
_STREET = np.array([4, 9, 9, 3, 2, 4, 6, 8, 1, 1, 3, 5, 9, 3, 4, 7, 3, 4, 10, 2, 9, 1, 1], float)
_SIBLINGS = np.array([0.38, 0.32, 0.17, 0.08, 0.05])


@dataclass
class PanelTruth:
    """What was planted, to check the linking against."""

    #: Current response id -> the previous response id of the same pupil.
    pairs: dict[str, str] = field(default_factory=dict)
    one_typo: int = 0
    two_typos: int = 0
    missing: int = 0


def _code(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "code_carer": _LETTERS[int(rng.choice(len(_LETTERS), p=_CARER / _CARER.sum()))],
        "code_day": int(rng.integers(1, 32)),
        "code_siblings": int(rng.choice(len(_SIBLINGS), p=_SIBLINGS)),
        "code_street": _LETTERS[int(rng.choice(len(_LETTERS), p=_STREET / _STREET.sum()))],
    }


def _typo(rng: np.random.Generator, code: dict[str, Any], part: str) -> None:
    """Change one character of one part."""
    if part in ("code_carer", "code_street"):
        code[part] = str(rng.choice([c for c in _LETTERS if c != code[part]]))
    elif part == "code_day":
        tens, ones = divmod(int(code[part]), 10)
        options = [d for d in range(10) if d != ones and 1 <= tens * 10 + d <= 31]
        code[part] = tens * 10 + int(rng.choice(options))
    else:
        code[part] = (int(code[part]) + int(rng.choice([1, 2]))) % 10


def _step_up(item_choices: tuple[str, ...], positive: frozenset[str], value: str) -> str:
    """One choice nearer the positive end (choices run from positive to negative)."""
    index = item_choices.index(value)
    return item_choices[index - 1] if index > 0 else value


class DemoPanel:
    """Gives the demo's pupils codes and plants the panel (see the module docstring)."""

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.truth = PanelTruth()
        #: Wave id -> (response id, code answers) of its pupils, stored after the responses.
        self.codes: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        #: (school, year group) -> last year's pupils: (response id, code, answers).
        self._last_year: dict[tuple[str, int], list[tuple[str, dict[str, Any], dict[str, Any]]]]
        self._last_year = defaultdict(list)
        self._planted = {
            name: (tuple(c.name for c in instrument.item(name).choices if not c.missing), p)
            for name, p in PLANTED.items()
            if instrument.has_item(name)
        }

    def pupils(
        self,
        rng: np.random.Generator,
        *,
        current: bool,
        wave_id: int,
        school: str,
        year_group: int,
        ids: list[str],
        answers: list[dict[str, Any]],
    ) -> None:
        """Give one class's pupils codes; in the current wave, plant returning pupils."""
        pool = self._last_year.get((school, year_group - 1), []) if current else []
        returning = min(len(pool), round(RETURNING * len(ids)))
        chosen = set(rng.choice(len(ids), size=returning, replace=False).tolist())
        for index, (rid, row) in enumerate(zip(ids, answers, strict=True)):
            if index in chosen:
                pick = int(rng.integers(len(pool)))
                old_id, true_code, old_answers = pool.pop(pick)
                code = dict(true_code)
                self.truth.pairs[rid] = old_id
                draw = rng.random()
                parts = list(code)
                if draw < TWO_TYPOS:
                    for part in rng.choice(parts, size=2, replace=False):
                        _typo(rng, code, str(part))
                    self.truth.two_typos += 1
                elif draw < TWO_TYPOS + ONE_TYPO:
                    _typo(rng, code, str(rng.choice(parts)))
                    self.truth.one_typo += 1
                self._plant(rng, old_answers, row)
            else:
                code = _code(rng)
            if not current:  # the code as it really is, before a question is skipped
                self._last_year[(school, year_group)].append((rid, dict(code), row))
            if rng.random() < MISSING_PART:
                code[str(rng.choice(list(code)))] = None
                self.truth.missing += 1
            self.codes[wave_id].append((rid, code))

    def _plant(
        self, rng: np.random.Generator, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        """Carry last year's answer forward on the planted items, moved up by chance."""
        for name, (choices, chance) in self._planted.items():
            old = before.get(name)
            if old not in choices:
                continue
            item = self.instrument.item(name)
            new = str(old)
            if old not in item.positive and rng.random() < chance:
                new = _step_up(choices, item.positive, new)
            after[name] = new


@dataclass(frozen=True)
class PanelCheck:
    """The demo's planted panel against the links the linking made."""

    planted: int
    one_typo: int
    two_typos: int
    missing: int
    links: int
    true_links: int


def plant_panel(
    session: Session, community: Community, panel: DemoPanel, waves: list[Wave], secret: str
) -> PanelCheck:
    """Store every pupil's code, link the last wave to the one before, check the links."""
    key = community_key(secret, community.id)
    for wave in waves:
        store_codes(
            session,
            key=key,
            instrument=panel.instrument,
            wave_id=wave.id,
            codes=panel.codes.get(wave.id, []),
        )
    previous, current = waves[-2], waves[-1]
    link_waves(session, wave=current, previous=previous)
    links = session.execute(
        select(PanelLink.response_id, PanelLink.previous_response_id).where(
            PanelLink.wave_id == current.id
        )
    ).all()
    truth = panel.truth
    return PanelCheck(
        planted=len(truth.pairs),
        one_typo=truth.one_typo,
        two_typos=truth.two_typos,
        missing=truth.missing,
        links=len(links),
        true_links=sum(1 for a, b in links if truth.pairs.get(a) == b),
    )

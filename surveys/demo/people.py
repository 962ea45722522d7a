"""Simulated respondents: who answers (year group, gender, age, sex) and their latent scores.

A respondent's latent score on a domain is the sum of their school's (or area's) designed
effect, a small fixed effect every site has, the change since the previous wave where the
spec gives one, group differences (younger pupils and boys are happier on average; women
feel less safe after dark), a general factor shared by all domains and a domain-specific
noise term. :class:`~surveys.demo.answers.Simulator` turns those scores into answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from instruments.model import Instrument, Item
from surveys.demo.answers import FloatArray, stable_unit
from surveys.demo.spec import AGE_BANDS, AreaSpec, SchoolSpec

__all__ = ["domains", "pupils", "residents", "year_choice"]

#: Shares of pupils' answers to "Are you…" (the rest prefer not to say).
_GENDER = {"girl": 0.48, "boy": 0.46, "another_way": 0.025}
#: Resident samples over-represent women (margins: about 51%).
_SEX = {"female": 0.63, "male": 0.35}


def domains(instrument: Instrument) -> list[str]:
    """The item domains of ``instrument``, in form order."""
    return list(dict.fromkeys(i.domain for i in instrument.items if i.domain))


def year_choice(item: Item, year: int) -> str | None:
    """The choice of a year-group question that means ``year`` (e.g. ``year7``)."""
    for choice in item.choices:
        found = re.fullmatch(r"\D*(\d+)", choice.name)
        if found and int(found.group(1)) == year:
            return choice.name
    return None


def _categorical(
    rng: np.random.Generator, item: Item | None, shares: dict[str, float], n: int
) -> list[str | None]:
    """Draw choices of ``item`` with ``shares``; the leftover share goes to missing choices."""
    if item is None:
        return [None] * n
    names = [c for c in shares if c in item.choice_names]
    rest = [c.name for c in item.choices if c.missing]
    probs = [shares[c] for c in names]
    leftover = max(0.0, 1.0 - sum(probs))
    tail: list[str | None] = list(rest) if rest else [None]
    options: list[str | None] = [*names, *tail]
    probs += [leftover / max(1, len(rest))] * max(1, len(rest))
    p = np.asarray(probs) / sum(probs)
    return [options[int(i)] for i in rng.choice(len(options), size=n, p=p)]


def _site_effect(code: str, domain: str) -> float:
    """A small fixed difference every site has (about ±0.1), so no two are identical."""
    return (stable_unit(f"{code}/{domain}") - 0.5) * 0.2


def pupils(
    rng: np.random.Generator,
    instrument: Instrument,
    school: SchoolSpec,
    year: int,
    n: int,
    *,
    current: bool,
) -> tuple[dict[str, FloatArray], dict[str, list[Any]]]:
    """Latent scores by domain and fixed answers (year group, gender) for one class."""
    fixed: dict[str, list[Any]] = {}
    genders: list[str | None] = [None] * n
    if instrument.has_item("gender"):
        genders = _categorical(rng, instrument.item("gender"), _GENDER, n)
        fixed["gender"] = genders
    if instrument.has_item("year_group"):
        answer = year_choice(instrument.item("year_group"), year)
        fixed["year_group"] = [answer if rng.random() > 0.01 else None for _ in range(n)]
    general = rng.normal(0.0, 0.7, size=n)
    girl = np.asarray([g == "girl" for g in genders], dtype=float)
    other = np.asarray([g == "another_way" for g in genders], dtype=float)
    older = max(0, year - 5)
    latent: dict[str, FloatArray] = {}
    for domain in domains(instrument):
        shift = school.effects.get(domain, 0.0) + _site_effect(school.code, domain)
        if current:
            shift += school.trend.get(domain, 0.0)
        if domain in ("wellbeing", "belonging"):
            shift -= 0.05 * older
        if domain == "bullying":
            shift -= 0.03 * older
        group = np.zeros(n)
        if domain == "wellbeing" and year >= 8:
            group -= 0.3 * girl
        if domain in ("wellbeing", "belonging", "bullying"):
            group -= 0.5 * other
        if domain == "safety":
            group -= 0.15 * girl
        latent[domain] = shift + group + general + rng.normal(0.0, 0.5, size=n)
    return latent, fixed


def _sample_ages(rng: np.random.Generator, area: AreaSpec, n: int) -> list[str]:
    # Older people answer surveys more readily; young adults least.
    weights = np.asarray(area.age) * np.asarray([0.5, 0.8, 1.0, 1.2, 1.45, 1.6])
    p = weights / weights.sum()
    return [AGE_BANDS[int(i)] for i in rng.choice(len(AGE_BANDS), size=n, p=p)]


def residents(
    rng: np.random.Generator,
    instrument: Instrument,
    area: AreaSpec,
    n: int,
    *,
    with_demographics: bool = True,
) -> tuple[dict[str, FloatArray], dict[str, list[Any]]]:
    """Latent scores by domain and fixed answers (age band, sex, postcode) for residents."""
    fixed: dict[str, list[Any]] = {}
    ages = _sample_ages(rng, area, n)
    sexes: list[str | None] = [None] * n
    if with_demographics and instrument.has_item("age_band"):
        band = instrument.item("age_band")
        fixed["age_band"] = [
            a if a in band.choice_names and rng.random() > 0.02 else None for a in ages
        ]
    if with_demographics and instrument.has_item("sex"):
        sexes = _categorical(rng, instrument.item("sex"), _SEX, n)
        fixed["sex"] = sexes
    if with_demographics and instrument.has_item("postcode"):
        fixed["postcode"] = list(_postcodes(rng, area.postcodes, n))
    general = rng.normal(0.0, 0.7, size=n)
    female = np.asarray([s == "female" for s in sexes], dtype=float)
    age_index = np.asarray([AGE_BANDS.index(a) for a in ages], dtype=float)
    latent: dict[str, FloatArray] = {}
    for domain in domains(instrument):
        shift = area.effects.get(domain, 0.0) + _site_effect(area.code, domain)
        group = np.zeros(n)
        if domain == "safety":
            group -= 0.7 * female + 0.12 * np.maximum(age_index - 3, 0)
        if domain in ("belonging", "cohesion"):
            group += 0.15 * (age_index - 2.5)
        if domain == "participation":
            group += 0.1 * (age_index - 2.5)
        latent[domain] = shift + group + general + rng.normal(0.0, 0.5, size=n)
    return latent, fixed


def _postcodes(rng: np.random.Generator, sectors: Iterable[str], n: int) -> Iterable[str | None]:
    options = list(sectors)
    for _ in range(n):
        roll = rng.random()
        sector = options[int(rng.integers(len(options)))]
        if roll < 0.72:
            yield sector
        elif roll < 0.9:
            yield sector.split()[0]  # the district only
        else:
            yield None

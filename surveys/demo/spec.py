"""What the demo community is: schools, classes, areas, waves, accounts and designed effects.

Everything here is fixed (it does not depend on the seed), so the documentation can name
the schools that were built to differ. The seed only changes who answered and how.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "AREAS",
    "COMMUNITY_NAME",
    "COMMUNITY_SLUG",
    "CURRENT_WAVE",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_PIN",
    "PREVIOUS_WAVE",
    "SCHOOLS",
    "USERS",
    "AreaSpec",
    "ClassSpec",
    "SchoolSpec",
    "UserSpec",
    "WaveSpec",
    "demo_margins",
]

COMMUNITY_SLUG = "riverside"
COMMUNITY_NAME = "Riverside Children's Community"
DEFAULT_SEED = 2027

#: Shared by every demo account. Demo only: never use it for real data.
DEMO_PASSWORD = "riverside-demo"  # noqa: S105 - a published demo password, not a secret
#: Teacher PIN of every demo class (opens the live "n of m finished" page).
DEMO_PIN = "2468"


@dataclass(frozen=True)
class ClassSpec:
    """One teaching group."""

    name: str
    year_group: int
    size: int


@dataclass(frozen=True)
class SchoolSpec:
    """A school, its classes, and how it was built to differ from the others.

    ``effects`` and ``trend`` are shifts on the latent scale (logits) by item domain:
    about +0.8 moves a 65% positive item to about 80%. ``trend`` applies to the current
    wave only, so the change since the previous wave shows.
    """

    code: str
    name: str
    phase: str  # "primary" (years 5-6) or "secondary" (years 7-11)
    classes: tuple[ClassSpec, ...]
    response_rate: float
    effects: dict[str, float] = field(default_factory=dict)
    trend: dict[str, float] = field(default_factory=dict)

    @property
    def population(self) -> int:
        """Pupils on roll in the surveyed years."""
        return sum(c.size for c in self.classes)


@dataclass(frozen=True)
class AreaSpec:
    """A neighbourhood area with its postcode sectors and households."""

    code: str
    name: str
    postcodes: tuple[str, ...]
    households: int
    #: Residents surveyed per wave.
    residents: int
    #: Peer interviews in the current wave.
    interviews: int
    effects: dict[str, float] = field(default_factory=dict)
    #: Population shares: age band and sex of residents aged 16 and over.
    age: tuple[float, ...] = (0.15, 0.22, 0.21, 0.17, 0.12, 0.13)
    female: float = 0.51


@dataclass(frozen=True)
class WaveSpec:
    """A wave and the fixed dates its responses fall in."""

    name: str
    status: str
    #: ISO date of the first fieldwork day; fieldwork lasts five weeks of school days.
    start: str
    previous: str | None = None


@dataclass(frozen=True)
class UserSpec:
    """A demo staff account; ``sites`` are site codes."""

    email: str
    role: str
    name: str
    sites: tuple[str, ...] = ()


PREVIOUS_WAVE = WaveSpec("Spring 2026", "closed", "2026-02-23")
CURRENT_WAVE = WaveSpec("Spring 2027", "open", "2027-02-22", previous="Spring 2026")

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65+")

# (code, name, phase, forms per year, form letters, response rate, effects, trend)
_SCHOOLS: tuple[tuple[str, str, str, int, str, float, dict[str, float], dict[str, float]], ...] = (
    ("S01", "Brook Lane Primary", "primary", 2, "BL", 0.89, {}, {}),
    (
        "S02",
        "Orchard Grove Primary",
        "primary",
        3,
        "OGR",
        0.91,
        {"safety": 1.1, "belonging": 0.9},
        {},
    ),
    ("S03", "St Aidan's CE Primary", "primary", 2, "AE", 0.88, {}, {}),
    ("S04", "Canal Street Primary", "primary", 3, "CSP", 0.86, {}, {"wellbeing": -0.8}),
    ("S05", "Marsh Lane Primary", "primary", 2, "MN", 0.84, {"relationships": -0.9}, {}),
    ("S06", "Harbour Road Primary", "primary", 2, "HR", 0.9, {}, {}),
    ("S07", "Elm Tree Primary", "primary", 3, "ETW", 0.87, {}, {}),
    ("S08", "Wharfside Primary", "primary", 2, "WS", 0.85, {}, {}),
    ("S09", "Queensbridge Primary", "primary", 2, "QB", 0.88, {}, {}),
    ("S10", "Ashcombe Primary", "primary", 3, "ACR", 0.9, {}, {}),
    (
        "S11",
        "Hollins Academy",
        "secondary",
        3,
        "HOL",
        0.87,
        {"wellbeing": 0.8, "aspirations": 0.9},
        {},
    ),
    ("S12", "Riverside High School", "secondary", 3, "RVH", 0.85, {}, {}),
    ("S13", "Kingsmead School", "secondary", 3, "KMS", 0.83, {"bullying": -0.9}, {}),
    ("S14", "Northgate Academy", "secondary", 3, "NGA", 0.86, {}, {"bullying": 0.9}),
    (
        "S15",
        "Ferry Lane School",
        "secondary",
        3,
        "FLS",
        0.82,
        {"safety": -0.9, "belonging": -0.8},
        {},
    ),
    ("S16", "Clayhill Academy", "secondary", 3, "CHY", 0.88, {}, {}),
    ("S17", "Westbrook High School", "secondary", 3, "WBR", 0.86, {}, {}),
    ("S18", "St Cuthbert's Catholic High", "secondary", 3, "SCT", 0.89, {}, {}),
)


def _schools() -> tuple[SchoolSpec, ...]:
    # Class sizes come from a fixed generator, so the community is the same for every seed.
    rng = np.random.default_rng(20270222)
    schools = []
    for code, name, phase, forms, letters, rate, effects, trend in _SCHOOLS:
        years = (5, 6) if phase == "primary" else (7, 8, 9, 10, 11)
        low, high = (26, 32) if phase == "primary" else (29, 34)
        classes = tuple(
            ClassSpec(f"{year}{letters[i]}", year, int(rng.integers(low, high)))
            for year in years
            for i in range(forms)
        )
        schools.append(SchoolSpec(code, name, phase, classes, rate, effects, trend))
    return tuple(schools)


SCHOOLS: tuple[SchoolSpec, ...] = _schools()

AREAS: tuple[AreaSpec, ...] = (
    AreaSpec(
        "A01",
        "Riverside North",
        ("RV1 1", "RV1 2"),
        3400,
        130,
        9,
        {},
        age=(0.14, 0.2, 0.2, 0.18, 0.13, 0.15),
    ),
    AreaSpec(
        "A02",
        "Canal Quarter",
        ("RV1 3", "RV1 4"),
        2900,
        115,
        8,
        {"safety": -1.0, "place": -0.7},
        age=(0.2, 0.27, 0.21, 0.14, 0.09, 0.09),
    ),
    AreaSpec(
        "A03",
        "Marsh End",
        ("RV2 1", "RV2 2", "RV2 3"),
        4100,
        140,
        8,
        {},
    ),
    AreaSpec(
        "A04",
        "Station Hill",
        ("RV2 4", "RV2 5"),
        2600,
        105,
        8,
        {"place": 0.8, "belonging": 0.8, "cohesion": 0.6},
        age=(0.12, 0.18, 0.2, 0.19, 0.15, 0.16),
    ),
    AreaSpec(
        "A05",
        "Park Rise",
        ("RV3 1", "RV3 2"),
        2300,
        110,
        7,
        {"participation": -0.9},
        female=0.52,
    ),
)

USERS: tuple[UserSpec, ...] = (
    UserSpec("admin@demo.placevoice.org", "admin", "Sam Okafor (core team)"),
    UserSpec("head.brooklane@demo.placevoice.org", "school_staff", "Head, Brook Lane", ("S01",)),
    UserSpec(
        "pastoral.hollins@demo.placevoice.org", "school_staff", "Pastoral lead, Hollins", ("S11",)
    ),
    UserSpec(
        "researcher@demo.placevoice.org", "researcher", "Peer researcher (north)", ("A01", "A02")
    ),
    UserSpec(
        "researcher2@demo.placevoice.org",
        "researcher",
        "Peer researcher (south)",
        ("A03", "A04", "A05"),
    ),
    UserSpec("coder@demo.placevoice.org", "coder", "Theme coder"),
)


def demo_margins() -> list[dict[str, object]]:
    """Population margins (age band and sex of residents 16+) for each demo area.

    Rows are ``area`` (site code), ``variable`` (``age_band`` or ``sex``), ``category``
    (a choice name of resident_baseline) and ``proportion``; each area's proportions for
    one variable add up to 1. The demo's resident sample is deliberately skewed (more
    women and older people), so weighting to these margins changes the estimates.

    Examples
    --------
    >>> rows = demo_margins()
    >>> sorted({r["variable"] for r in rows})
    ['age_band', 'sex']
    >>> sex = [r for r in rows if r["area"] == "A01" and r["variable"] == "sex"]
    >>> round(sum(r["proportion"] for r in sex), 6)
    1.0
    """
    rows: list[dict[str, object]] = []
    for area in AREAS:
        total = sum(area.age)
        rows.extend(
            {
                "area": area.code,
                "variable": "age_band",
                "category": band,
                "proportion": share / total,
            }
            for band, share in zip(AGE_BANDS, area.age, strict=True)
        )
        rows.append(
            {"area": area.code, "variable": "sex", "category": "female", "proportion": area.female}
        )
        rows.append(
            {
                "area": area.code,
                "variable": "sex",
                "category": "male",
                "proportion": round(1 - area.female, 10),
            }
        )
    return rows

"""The demo community: a fictional Children's Community with realistic simulated data.

Usable from a plain script (no Flask)::

    from surveys.db import make_engine, make_sessionmaker, migrate
    from surveys.demo import build_demo

    engine = make_engine("sqlite:///demo.db")
    migrate(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        result = build_demo(session, seed=2027)

See docs/demo.md for what it contains and which schools and areas were built to differ.
"""

from surveys.demo.build import DemoError, DemoResult, build_demo, demo_exists
from surveys.demo.spec import (
    AREAS,
    COMMUNITY_NAME,
    COMMUNITY_SLUG,
    CURRENT_WAVE,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_PIN,
    PREVIOUS_WAVE,
    SCHOOLS,
    USERS,
    demo_margins,
)
from surveys.demo.summary import DemoSummary, summarise

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
    "DemoError",
    "DemoResult",
    "DemoSummary",
    "build_demo",
    "demo_exists",
    "demo_margins",
    "summarise",
]

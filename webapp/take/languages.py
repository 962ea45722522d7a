"""Which languages a respondent is offered before a draft exists.

The start and resume pages offer the languages of the questionnaires that codes can open
now (the codes of open waves); an area link page offers its own
questionnaire's. A language no questionnaire has is never offered, so nobody picks Urdu and
silently gets English. If a code still opens a questionnaire without the language chosen
(a resident language on the shared start page, then a class code), the intro says so.
"""

from __future__ import annotations

from sqlalchemy import select

from instruments import Instrument
from surveys.models import AccessCode, InstrumentVersion, Wave
from surveys.services import instrument_of
from webapp.database import db_session
from webapp.take.flow import INTERFACE_LANGUAGES

__all__ = ["offered", "open_instruments"]


def open_instruments() -> list[Instrument]:
    """The questionnaires that the codes of open waves lead to."""
    versions = db_session().scalars(
        select(InstrumentVersion).where(
            InstrumentVersion.id.in_(
                select(AccessCode.instrument_version_id)
                .join(Wave, Wave.id == AccessCode.wave_id)
                .where(
                    Wave.status == "open",
                    Wave.retired_at.is_(None),
                    AccessCode.revoked.is_(False),
                )
                .distinct()
            )
        )
    )
    return [instrument_of(version) for version in versions]


def offered(instruments: list[Instrument]) -> dict[str, str]:
    """The interface languages that at least one of ``instruments`` has (English alone if none)."""
    have = {code for instrument in instruments for code in instrument.languages}
    languages = {code: name for code, name in INTERFACE_LANGUAGES.items() if code in have}
    return languages or {"en": INTERFACE_LANGUAGES["en"]}

"""The codebook: a community's themes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models.field import Theme
from surveys.services.coding.units import CodingError

__all__ = ["add_theme", "check_themes", "themes", "update_theme"]


def themes(session: Session, community_id: int) -> list[Theme]:
    """The codebook, alphabetically."""
    return list(
        session.scalars(
            select(Theme).where(Theme.community_id == community_id).order_by(Theme.name)
        )
    )


def add_theme(
    session: Session,
    *,
    actor_id: int,
    community_id: int,
    name: str,
    description: str = "",
    example: str = "",
) -> Theme:
    """A new theme in the codebook (names are unique, ignoring case)."""
    name = " ".join(name.split())
    if not name:
        raise CodingError("give the theme a name")
    for theme in themes(session, community_id):
        if theme.name.lower() == name.lower():
            raise CodingError(f"there is already a theme called '{theme.name}'")
    theme = Theme(
        community_id=community_id,
        name=name,
        description=description.strip(),
        example=example.strip(),
        created_by=actor_id,
    )
    session.add(theme)
    session.flush()
    return theme


def update_theme(
    session: Session, *, community_id: int, theme_id: int, description: str, example: str
) -> Theme:
    """Change a theme's description or example (its name stays, so codes keep meaning)."""
    theme = session.get(Theme, theme_id)
    if theme is None or theme.community_id != community_id:
        raise CodingError("there is no such theme")
    theme.description = description.strip()
    theme.example = example.strip()
    session.flush()
    return theme


def check_themes(session: Session, community_id: int, theme_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(theme_ids))
    valid = {t.id for t in themes(session, community_id)}
    if not set(wanted) <= valid:
        raise CodingError("one of the themes is not in the codebook")
    return wanted

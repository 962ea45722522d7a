"""Tables for analysis inputs that are not responses: population margins for weighting."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveys.models.base import Base

__all__ = ["ALL_AREAS", "PopulationMargin"]

#: ``area`` value of margins that apply to every area without margins of its own.
ALL_AREAS = "ALL"


class PopulationMargin(Base):
    """One population share that resident responses are weighted (raked) to.

    A community gives, for each raking variable (``age_band``, ``sex``, optionally
    ``tenure``, or a crossed ``age_band:sex``), the share of the population in each
    category: for the whole community (``area = "ALL"``) or for one area (its site code).
    """

    __tablename__ = "population_margins"
    __table_args__ = (UniqueConstraint("community_id", "area", "variable", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: An area's site code, or "ALL" for margins every area without its own uses.
    area: Mapped[str] = mapped_column(String(40))
    #: The response item the margin is about (e.g. "age_band"), or "a:b" for a joint margin.
    variable: Mapped[str] = mapped_column(String(120))
    #: A choice name of that item (e.g. "16-24"), or "x:y" for a joint margin.
    category: Mapped[str] = mapped_column(String(120))
    #: Share of the population in the category (shares of a variable are normalised to 1).
    proportion: Mapped[float] = mapped_column(Float)

"""Area boundaries: one polygon (GeoJSON geometry) per neighbourhood area, for maps.

The community uploads its boundaries (LSOAs, wards...) as a GeoJSON file
(:mod:`surveys.services.boundaries`); each feature is matched to one area site.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.models.base import Base, utcnow

__all__ = ["AreaBoundary"]


class AreaBoundary(Base):
    """The boundary of one area site, as a GeoJSON Polygon or MultiPolygon geometry."""

    __tablename__ = "area_boundaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), unique=True, index=True
    )
    #: The GeoJSON geometry as uploaded: longitude/latitude (WGS84) or British National
    #: Grid metres (EPSG:27700); maps tell them apart by the size of the coordinates.
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The feature's own identifier in the uploaded file (the matching property's value).
    source_id: Mapped[str] = mapped_column(String(200), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

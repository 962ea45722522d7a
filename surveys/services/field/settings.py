"""Research settings, and which field interviews count in analysis."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import Session, object_session

from surveys.models import Community, Response
from surveys.models.field import ResearchSettings
from surveys.services.field.common import FIELD_CHANNELS

__all__ = ["analysis_statuses", "counts_in_analysis", "research_settings"]


def research_settings(session: Session, community_id: int) -> ResearchSettings:
    """The community's research settings (defaults until changed)."""
    row = session.get(ResearchSettings, community_id)
    if row is None:
        row = ResearchSettings(community_id=community_id, count_submitted=False)
        row.double_code_percent = 20
    return row


def analysis_statuses(community: Community) -> tuple[str, ...]:
    """The statuses of field and ODK responses that count in analysis.

    Approved interviews always count; submitted ones too when the community has chosen
    not to wait for review (``ResearchSettings.count_submitted``). Responses from other
    channels are not reviewed and count when submitted; :func:`counts_in_analysis`
    gives the whole rule as a SQL condition.
    """
    session = object_session(community)
    count_submitted = False
    if session is not None:
        row = session.get(ResearchSettings, community.id)
        count_submitted = bool(row and row.count_submitted)
    return ("approved", "submitted") if count_submitted else ("approved",)


def counts_in_analysis(community: Community) -> ColumnElement[bool]:
    """A condition on :class:`Response` selecting exactly the responses analysis uses."""
    return or_(
        and_(Response.channel.not_in(FIELD_CHANNELS), Response.status == "submitted"),
        and_(
            Response.channel.in_(FIELD_CHANNELS),
            Response.status.in_(analysis_statuses(community)),
        ),
    )

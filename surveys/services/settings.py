"""A community's privacy and pack settings: the suppression threshold k and the pack minimum."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.suppression import MAX_K, MIN_K
from surveys.errors import ServiceError, ServiceMessage
from surveys.models import Community

__all__ = ["CommunitySettings", "community_settings", "update_community_settings"]

#: The largest pack minimum accepted (a bigger one would leave most schools a short pack).
MAX_PACK_MIN = 500


@dataclass(frozen=True)
class CommunitySettings:
    """What every pack and export of the community states and applies."""

    #: Cells counting 1 to k - 1 people are hidden (5 to 30; default 10).
    suppression_k: int
    #: Sites with fewer responses get a short pack (never below k; default 20).
    pack_min_responses: int


def community_settings(community: Community) -> CommunitySettings:
    """The community's current settings (defaults for a community not yet flushed)."""
    return CommunitySettings(
        suppression_k=community.suppression_k or 10,
        pack_min_responses=community.pack_min_responses or 20,
    )


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def update_community_settings(
    community: Community, *, k: object = None, pack_min: object = None
) -> CommunitySettings:
    """Change k and/or the pack minimum; None keeps a setting. Checked before anything changes.

    Raises
    ------
    ServiceError
        If k is not 5 to 30, or the pack minimum is below k (the new k when both
        change) or above 500.
    """
    current = community_settings(community)
    new_k = current.suppression_k
    if k is not None:
        parsed = _whole(k)
        if parsed is None or not MIN_K <= parsed <= MAX_K:
            raise ServiceError(ServiceMessage.BAD_K, k=k)
        new_k = parsed
    new_min = current.pack_min_responses
    if pack_min is not None:
        parsed = _whole(pack_min)
        if parsed is None:
            raise ServiceError(ServiceMessage.BAD_PACK_MIN, k=new_k, value=pack_min)
        new_min = parsed
    if not new_k <= new_min <= MAX_PACK_MIN:
        raise ServiceError(ServiceMessage.BAD_PACK_MIN, k=new_k, value=new_min)
    community.suppression_k = new_k
    community.pack_min_responses = new_min
    return CommunitySettings(suppression_k=new_k, pack_min_responses=new_min)

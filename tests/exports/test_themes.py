"""Themes and quotes in neighbourhood reports: only above the threshold, only cleared quotes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.packs import build_contexts
from exports.render import pack_html
from surveys.models import Response, Site
from surveys.models.field import CodedUnit, Coding, QuoteApproval, Theme
from tests.exports.community import Built

pytestmark = pytest.mark.slow

CLEARED = "The park by the canal is where the kids meet after school."
TOO_FEW = "Only a handful said this in Old Quarry."
MARKET = "Market Ward needs a crossing by the school."


def _code(session: Session, user: Any, site_code: str, n: int, theme: Theme, quote: str) -> None:
    ids = session.scalars(
        select(Response.id)
        .join(Site, Response.site_id == Site.id)
        .where(Site.code == site_code)
        .order_by(Response.id)
        .limit(n)
    ).all()
    for rid in ids:
        session.add(CodedUnit(coder_id=user.id, response_id=rid, item="one_change"))
        session.add(Coding(coder_id=user.id, response_id=rid, item="one_change", theme_id=theme.id))
    session.add(
        QuoteApproval(
            response_id=ids[0],
            item="one_change",
            theme_id=theme.id,
            text=quote,
            approved_by=user.id,
        )
    )


def test_themes_and_quotes_only_above_threshold(
    session: Session, built: Built, make_user: Any
) -> None:
    coder = make_user("coder")
    theme = Theme(community_id=coder.community_id, name="Parks and play")
    session.add(theme)
    session.flush()
    _code(session, coder, "A1", 15, theme, CLEARED)
    _code(session, coder, "A2", 12, theme, MARKET)
    _code(session, coder, "A3", 4, theme, TOO_FEW)
    session.commit()
    contexts, notes = build_contexts(session, built.wave)
    by_site = {c["site"]: c for c in contexts}
    a1, a2, everyone = by_site["A1"], by_site["A2"], by_site["community"]
    assert a1["themes"]["rows"] == [{"theme": "Parks and play", "n": "15", "pct": "100%"}]
    assert a1["quotes"] == [{"text": CLEARED, "theme": "Parks and play"}]
    # Old Quarry (4 coded people) is hidden, so Market Ward's count is hidden too: otherwise
    # the community total minus the areas shown would reveal Old Quarry's.
    assert a2["themes"]["rows"] == []
    assert a2["quotes"] == [{"text": MARKET, "theme": "Parks and play"}]  # 12 >= k people
    assert "A3" in {n["site"] for n in notes}
    html = pack_html(everyone) + pack_html(a1) + pack_html(a2)
    assert CLEARED in html and MARKET in html
    assert TOO_FEW not in html  # below the threshold: never quoted anywhere

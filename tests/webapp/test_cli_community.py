"""``placevoice communities settings`` and the sites CSV's optional phase and FSM columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.errors import ServiceError
from surveys.models import Community, Site
from surveys.services.settings import update_community_settings


def test_settings_show_and_change_k_and_the_pack_minimum(
    run_cli, session: Session, community: Community
) -> None:  # type: ignore[no-untyped-def]
    shown = run_cli("communities", "settings")
    assert shown.exit_code == 0, shown.output
    assert "suppression threshold k = 10; full pack from 20 responses" in shown.output
    changed = run_cli("communities", "settings", "--k", "12", "--pack-min", "15")
    assert changed.exit_code == 0, changed.output
    assert "k = 12; full pack from 15 responses" in changed.output
    session.expire_all()
    assert (community.suppression_k, community.pack_min_responses) == (12, 15)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "4"], "from 5 to 30 (got 4)"),
        (["--k", "31"], "from 5 to 30 (got 31)"),
        (["--k", "ten"], "from 5 to 30 (got ten)"),
        (["--pack-min", "9"], "no smaller than the suppression threshold k = 10 (got 9)"),
        (["--k", "25"], "no smaller than the suppression threshold k = 25 (got 20)"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(  # type: ignore[no-untyped-def]
    run_cli, session: Session, community: Community, args: list[str], message: str
) -> None:
    result = run_cli("communities", "settings", *args)
    assert result.exit_code == 1
    assert message in result.output
    session.expire_all()
    assert (community.suppression_k, community.pack_min_responses) == (10, 20)


def test_raising_k_and_the_minimum_together_is_checked_against_the_new_k(
    community: Community,
) -> None:
    settings = update_community_settings(community, k=25, pack_min=30)
    assert (settings.suppression_k, settings.pack_min_responses) == (25, 30)
    with pytest.raises(ServiceError):
        update_community_settings(community, k=True)


def test_sites_import_reads_optional_phase_and_fsm_band(  # type: ignore[no-untyped-def]
    run_cli, session: Session, community: Community, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("site_id,name,kind\nS01,Ash Primary,school\n")
    assert run_cli("sites", "import", str(plain)).exit_code == 0
    full = tmp_path / "full.csv"
    full.write_text(
        "site_id,name,kind,phase,fsm_band\nS01,Ash Primary,school,Primary,30-40%\n"
        "S02,Birch High,school,secondary,\n"
    )
    result = run_cli("sites", "import", str(full))
    assert result.exit_code == 0, result.output
    session.expire_all()
    sites = {s.code: s for s in session.scalars(select(Site))}
    assert (sites["S01"].phase, sites["S01"].fsm_band) == ("primary", "30-40%")
    assert (sites["S02"].phase, sites["S02"].fsm_band) == ("secondary", "")
    # A file without the columns keeps what is stored.
    assert run_cli("sites", "import", str(plain)).exit_code == 0
    session.expire_all()
    assert session.scalar(select(Site.phase).where(Site.code == "S01")) == "primary"
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,name,kind,phase\nS03,Cedar,school," + "x" * 25 + "\n")
    refused = run_cli("sites", "import", str(bad))
    assert refused.exit_code == 1
    assert "bad.csv: row 2, column phase: " in refused.output

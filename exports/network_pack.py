"""The partnership pack: a tagged A4 PDF of a wave's network for the core team."""

from __future__ import annotations

import base64
from pathlib import Path

from exports.network_report import MIN_RATERS, NetworkReport
from exports.render import _environment, renderer, write_atomically

__all__ = ["network_pack_html", "network_pack_pdf", "write_network_pack"]


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def network_pack_html(report: NetworkReport, *, community: str) -> str:
    """The pack as HTML (maps as images with alternative text, then their data tables)."""
    template = _environment().get_template("network_pack.html")
    return template.render(
        r=report,
        community=community,
        summary=dict(report.summary.itertuples(index=False)),
        counts=report.change_counts(),
        map_uri=_data_uri(report.svg),
        previous_uri=_data_uri(report.previous_svg) if report.previous_svg else None,
        min_raters=MIN_RATERS,
    )


def network_pack_pdf(report: NetworkReport, *, community: str) -> bytes:
    """The pack as PDF/UA bytes."""
    return renderer().pdf_bytes(network_pack_html(report, community=community))


def write_network_pack(report: NetworkReport, path: Path, *, community: str) -> Path:
    """Write the pack to ``path`` atomically."""
    return write_atomically(path, network_pack_pdf(report, community=community))

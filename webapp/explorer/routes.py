"""Explorer views: a site's pack figures by domain and group; chart, table and map files.

Who sees what: the core team (admins) every school, area and the whole community of
their own community; school staff only the schools they are bound to. Anything else is
404, whatever the URL (``require_site``), so staff cannot learn that another school's
code exists. The figures are the pack contexts' (:mod:`webapp.results.data`), cut by
:func:`exports.explore.explorer_table`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from exports.explore import breakdown_choices, explorer_table, table_csv, table_xlsx
from exports.explore_chart import chart_png, chart_svg
from exports.maps import area_map_values, choropleth_svg, map_choices
from exports.packdata import Context, domain_title, slugify
from surveys.models import Response as SurveyResponse
from surveys.models import Site, Wave
from surveys.services.audit import audit
from surveys.services.boundaries import load_boundaries
from webapp.auth.access import community_wave, require_site, roles_required, site_visible
from webapp.database import db_session
from webapp.explorer import bp
from webapp.results.data import wave_contexts

COMMUNITY = "community"
TABLE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHART_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def _site(site_code: str) -> Site | None:
    """The site (None for the whole community); 404 outside the user's scope."""
    if site_code == COMMUNITY:
        if current_user.role != "admin":
            abort(404)
        return None
    site = db_session().scalar(
        select(Site).where(Site.code == site_code, Site.community_id == current_user.community_id)
    )
    if site is None:
        abort(404)
    require_site(site.id, site_community_id=site.community_id)
    return site


def _contexts(wave: Wave, site_code: str) -> tuple[Context | None, Context | None, Context | None]:
    """The site's pack context, its no-pack note, and the whole-community context."""
    contexts, notes = wave_contexts(db_session(), wave)
    context = next((c for c in contexts if c["site"] == site_code), None)
    note = next((n for n in notes if n["site"] == site_code), None)
    community = next((c for c in contexts if c.get("whole_community")), None)
    return context, note, community


def _view_choices(context: Context) -> list[tuple[str, list[tuple[str, str]]]]:
    """Options of the "Show" filter: overall, then each breakdown and each of its groups."""
    who = "pupils" if context["kind"] == "school" else "residents"
    overall = f"All {who}" + (
        f", against {context['benchmark_label'].lower()}"
        if not context.get("whole_community")
        else ""
    )
    options: list[tuple[str, list[tuple[str, str]]]] = [("", [("", overall)])]
    for var, title, groups in breakdown_choices(context):
        options.append(
            (
                title,
                [(var, f"Every {title.lower()} side by side")]
                + [(f"{var}:{g}", g) for g in groups],
            )
        )
    return options


def _filters(context: Context) -> dict[str, Any]:
    """The filters asked for (404 for a domain or group this site does not have)."""
    domain = request.args.get("domain", "")
    if domain and domain not in {d["key"] for d in context["domains"]}:
        abort(404)
    view = request.args.get("view", "")
    var, _, group = view.partition(":")
    if var:
        groups = {v: g for v, _, g in breakdown_choices(context)}
        if var not in groups or (group and group not in groups[var]):
            abort(404)
    return {
        "domain": domain or None,
        "breakdown": var or None,
        "group": group or None,
        "view": view,
    }


def _table(context: Context, filters: dict[str, Any]) -> Any:
    return explorer_table(
        context,
        domain=filters["domain"],
        breakdown=filters["breakdown"],
        group=filters["group"],
    )


def _visible_waves() -> list[Wave]:
    return list(
        db_session().scalars(
            select(Wave)
            .where(Wave.community_id == current_user.community_id)
            .order_by(Wave.id.desc())
        )
    )


@bp.get("/")
@roles_required("admin", "school_staff")
def home() -> str:
    """The waves and the sites this person may explore."""
    session = db_session()
    sites = [
        s
        for s in session.scalars(
            select(Site)
            .where(Site.community_id == current_user.community_id)
            .order_by(Site.kind.desc(), Site.name)
        )
        if site_visible(s.id, site_community_id=s.community_id)
    ]
    counts = dict(
        session.execute(
            select(SurveyResponse.wave_id, func.count(SurveyResponse.id))
            .where(SurveyResponse.status.in_(("submitted", "approved")))
            .group_by(SurveyResponse.wave_id)
        ).all()
    )
    waves = [w for w in _visible_waves() if counts.get(w.id)]
    return render_template(
        "explorer/home.html",
        waves=waves,
        schools=[s for s in sites if s.kind == "school"],
        areas=[s for s in sites if s.kind == "area"],
        community=current_user.role == "admin",
    )


@bp.get("/<int:wave_id>/<site_code>")
@roles_required("admin", "school_staff")
def site(wave_id: int, site_code: str) -> str:
    """One site's figures, filtered; its chart; for areas, the map."""
    wave = community_wave(wave_id)
    site = _site(site_code)
    context, note, community = _contexts(wave, site_code)
    page: dict[str, Any] = {
        "wave": wave,
        "waves": _visible_waves(),
        "site": site,
        "site_code": site_code,
        "c": context,
        "note": note,
    }
    if context is None:
        return render_template("explorer/site.html", **page)
    filters = _filters(context)
    table = _table(context, filters)
    args = {k: v for k, v in request.args.items() if k in ("domain", "view") and v}
    page |= {
        "filters": filters,
        "table": table,
        "chart": chart_svg(table),
        "domains": [(d["key"], d["title"]) for d in context["domains"]],
        "views": _view_choices(context),
        "args": args,
        "pack_url": _pack_url(wave, site_code),
    }
    if context["kind"] == "area" and community is not None:
        page |= _map(wave, site_code, community)
    return render_template("explorer/site.html", **page)


def _pack_url(wave: Wave, site_code: str) -> str:
    if current_user.role == "admin":
        return url_for("results.pack", wave_id=wave.id, site_code=site_code)
    return url_for("school.pack", site_code=site_code, wave=wave.name)


def _map(wave: Wave, site_code: str, community: Context) -> dict[str, Any]:
    shapes = load_boundaries(db_session(), wave.community_id)
    if not shapes:
        return {"map": None}
    choices = map_choices(community)
    choice = request.args.get("map") or choices[0][0]
    title = dict(choices).get(choice)
    if title is None:
        abort(404)
    values = area_map_values(community, choice)
    svg = choropleth_svg(
        shapes,
        values,
        title=f"Map: {title}, % positive by area",
        width=480,
        highlight=None if site_code == COMMUNITY else site_code,
        ident="area-map",
    )
    rows = [(v.name, v.text or "no figure") for code, v in values.items() if code in shapes]
    return {"map": {"svg": svg, "choice": choice, "choices": choices, "title": title, "rows": rows}}


def _download(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _file_context(wave_id: int, site_code: str) -> tuple[Wave, Context, dict[str, Any]]:
    wave = community_wave(wave_id)
    _site(site_code)
    context, _, _ = _contexts(wave, site_code)
    if context is None:
        abort(404)
    return wave, context, _filters(context)


def _file_name(wave: Wave, site_code: str, filters: dict[str, Any], kind: str, ext: str) -> str:
    parts = [slugify(wave.name), site_code, filters["domain"] or "", filters["view"] or "", kind]
    return "-".join(slugify(p) if i > 1 else p for i, p in enumerate(parts) if p) + f".{ext}"


@bp.get("/<int:wave_id>/<site_code>/chart.<fmt>")
@roles_required("admin", "school_staff")
def chart(wave_id: int, site_code: str, fmt: str) -> Response:
    """The page's chart as an SVG or PNG file."""
    if fmt not in CHART_TYPES:
        abort(404)
    wave, context, filters = _file_context(wave_id, site_code)
    svg = chart_svg(_table(context, filters))
    data = svg.encode("utf-8") if fmt == "svg" else chart_png(svg)
    return _download(data, CHART_TYPES[fmt], _file_name(wave, site_code, filters, "chart", fmt))


@bp.get("/<int:wave_id>/<site_code>/table.<fmt>")
@roles_required("admin", "school_staff")
def table(wave_id: int, site_code: str, fmt: str) -> Response:
    """The page's table as CSV or Excel (audit-logged, as pack downloads are)."""
    if fmt not in TABLE_TYPES:
        abort(404)
    wave, context, filters = _file_context(wave_id, site_code)
    table = _table(context, filters)
    data = table_csv(table, context) if fmt == "csv" else table_xlsx(table, context)
    session = db_session()
    audit(
        session, current_user.id, "explorer_download", "site", site_code, wave=wave.name, format=fmt
    )
    session.commit()
    return _download(data, TABLE_TYPES[fmt], _file_name(wave, site_code, filters, "table", fmt))


@bp.get("/<int:wave_id>/<site_code>/map.svg")
@roles_required("admin", "school_staff")
def map_svg(wave_id: int, site_code: str) -> Response:
    """The page's map as an SVG file."""
    wave = community_wave(wave_id)
    _site(site_code)
    context, _, community = _contexts(wave, site_code)
    if context is None or context["kind"] != "area" or community is None:
        abort(404)
    found = _map(wave, site_code, community).get("map")
    if not found:
        abort(404)
    name = f"{slugify(wave.name)}-{site_code}-map-{slugify(found['choice'])}.svg"
    return _download(found["svg"].encode("utf-8"), "image/svg+xml", name)


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"domain_title": domain_title}

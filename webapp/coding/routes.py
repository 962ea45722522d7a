"""Coding views: codebook, tagging answers, agreement, reconciliation and quotes.

Forms post plain fields with the page's CSRF token (CSRFProtect checks every POST).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from surveys.models import Response, User, Wave
from surveys.models.field import CodedUnit, QuoteApproval
from surveys.pii import Span, redact
from surveys.services import coding
from webapp.coding import bp
from webapp.database import db_session
from webapp.field.access import roles
from webapp.redirects import safe_target

CODERS = ("coder", "admin")


def _ids() -> tuple[int, int]:
    return int(current_user.id), int(current_user.community_id)


def _unit_view(response_id: str, item: str) -> tuple[Session, int, int, coding.Unit]:
    """What a view of one answer starts with: the session, the actor and the answer (or 404)."""
    session = db_session()
    user_id, community_id = _ids()
    try:
        unit = coding.get_unit(session, community_id, response_id, item)
    except coding.CodingError:
        abort(404)
    return session, user_id, community_id, unit


def _save(
    change: Callable[[], object], *, done: str, then: str
) -> tuple[WerkzeugResponse | None, str]:
    """Make ``change`` and commit it, then flash ``done`` and redirect to ``then``.

    A :class:`coding.CodingError` rolls back instead: no redirect, and the error's message
    for the page.
    """
    session = db_session()
    try:
        change()
    except coding.CodingError as err:
        session.rollback()
        return None, str(err).capitalize() + "."
    session.commit()
    flash(done, "success")
    return redirect(then), ""


def _theme_ids(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        abort(400)


@bp.get("/")
@roles(*CODERS)
def home() -> str:
    """Overview: the codebook, progress, and where to go next."""
    session = db_session()
    user_id, community_id = _ids()
    units = coding.open_units(session, community_id)
    mine = set(
        session.execute(
            select(CodedUnit.response_id, CodedUnit.item).where(CodedUnit.coder_id == user_id)
        ).all()
    )
    coded_any = set(session.execute(select(CodedUnit.response_id, CodedUnit.item)).all())
    keys = {(u.response_id, u.item) for u in units}
    return render_template(
        "coding/home.html",
        themes=coding.themes(session, community_id),
        total=len(keys),
        coded=len(keys & coded_any),
        mine=len(keys & mine),
        pending=len(coding.disagreements(session, community_id)),
    )


@bp.route("/themes", methods=["GET", "POST"])
@roles(*CODERS)
def themes() -> str | WerkzeugResponse:
    """The codebook: every theme with its description and example; add a theme."""
    session = db_session()
    user_id, community_id = _ids()
    error = ""
    if request.method == "POST":
        saved, error = _save(
            lambda: coding.add_theme(
                session,
                actor_id=user_id,
                community_id=community_id,
                name=request.form.get("name", ""),
                description=request.form.get("description", ""),
                example=request.form.get("example", ""),
            ),
            done="The theme was added to the codebook.",
            then=safe_target(request.form.get("back")) or url_for("coding.themes"),
        )
        if saved is not None:
            return saved
    return render_template(
        "coding/themes.html",
        themes=coding.themes(session, community_id),
        error=error,
        values=request.form,
    )


@bp.post("/themes/<int:theme_id>")
@roles(*CODERS)
def edit_theme(theme_id: int) -> WerkzeugResponse:
    """Change a theme's description and example."""
    session = db_session()
    _, community_id = _ids()
    try:
        coding.update_theme(
            session,
            community_id=community_id,
            theme_id=theme_id,
            description=request.form.get("description", ""),
            example=request.form.get("example", ""),
        )
    except coding.CodingError:
        abort(404)
    session.commit()
    flash("The theme was updated.", "success")
    return redirect(url_for("coding.themes"))


@bp.get("/next")
@roles(*CODERS)
def next_answer() -> WerkzeugResponse:
    """Go to the next answer to code."""
    user_id, community_id = _ids()
    unit = coding.next_unit(db_session(), coder_id=user_id, community_id=community_id)
    if unit is None:
        flash("There are no more answers for you to code. Thank you!", "success")
        return redirect(url_for("coding.home"))
    return redirect(url_for("coding.answer", response_id=unit.response_id, item=unit.item))


@bp.route("/answer/<response_id>/<item>", methods=["GET", "POST"])
@roles(*CODERS)
def answer(response_id: str, item: str) -> str | WerkzeugResponse:
    """Tag one answer with themes (and highlighted parts of it)."""
    session, user_id, community_id, unit = _unit_view(response_id, item)
    error = ""
    if request.method == "POST":
        if request.form.get("action") == "span":
            saved, error = _save(
                lambda: coding.add_span_coding(
                    session,
                    coder_id=user_id,
                    community_id=community_id,
                    response_id=unit.response_id,
                    item=item,
                    theme_id=_theme_ids([request.form.get("theme", "")])[0],
                    excerpt=request.form.get("excerpt", ""),
                ),
                done="The highlighted part was tagged.",
                then=url_for("coding.answer", response_id=response_id, item=item),
            )
        else:
            saved, error = _save(
                lambda: coding.save_unit_codes(
                    session,
                    coder_id=user_id,
                    community_id=community_id,
                    response_id=unit.response_id,
                    item=item,
                    theme_ids=_theme_ids(request.form.getlist("themes")),
                ),
                done="Saved.",
                then=url_for("coding.next_answer"),
            )
        if saved is not None:
            return saved
    mine = coding.codes_by_coder(session, unit.response_id, item).get(user_id, [])
    return render_template(
        "coding/answer.html",
        unit=unit,
        themes=coding.themes(session, community_id),
        checked={c.theme_id for c in mine if c.start is None},
        spans=[c for c in mine if c.start is not None],
        error=error,
    )


@bp.post("/codes/<int:coding_id>/remove")
@roles(*CODERS)
def remove_code(coding_id: int) -> WerkzeugResponse:
    """Remove one of your own codes."""
    user_id, _ = _ids()
    back = safe_target(request.form.get("back")) or url_for("coding.home")
    session = db_session()
    try:
        coding.remove_coding(session, coder_id=user_id, coding_id=coding_id)
    except coding.CodingError:
        abort(404)  # not one of your codes: as if it did not exist
    session.commit()
    flash("The code was removed.", "success")
    return redirect(back)


@bp.get("/agreement")
@roles(*CODERS)
def agreement() -> str:
    """Cohen's kappa per theme over the double-coded sample."""
    _, community_id = _ids()
    return render_template(
        "coding/agreement.html", rows=coding.agreement(db_session(), community_id)
    )


@bp.get("/reconcile")
@roles(*CODERS)
def reconcile_list() -> str:
    """Answers the two coders disagreed on."""
    session = db_session()
    _, community_id = _ids()
    units = [
        coding.get_unit(session, community_id, r, i)
        for r, i in coding.disagreements(session, community_id)
    ]
    return render_template("coding/reconcile_list.html", units=units)


@bp.route("/reconcile/<response_id>/<item>", methods=["GET", "POST"])
@roles(*CODERS)
def reconcile(response_id: str, item: str) -> str | WerkzeugResponse:
    """Show both coders' themes side by side and record the agreed ones."""
    session, user_id, community_id, unit = _unit_view(response_id, item)
    error = ""
    if request.method == "POST":
        saved, error = _save(
            lambda: coding.reconcile(
                session,
                actor_id=user_id,
                community_id=community_id,
                response_id=unit.response_id,
                item=item,
                theme_ids=_theme_ids(request.form.getlist("themes")),
                agreed_none=request.form.get("none") == "1",
            ),
            done="The agreed themes were saved.",
            then=url_for("coding.reconcile_list"),
        )
        if saved is not None:
            return saved
    by_coder = coding.codes_by_coder(session, unit.response_id, item)
    names = {u.id: u.display_name or u.email for u in session.scalars(select(User))}
    return render_template(
        "coding/reconcile.html",
        unit=unit,
        themes=coding.themes(session, community_id),
        coders=[(names.get(cid, str(cid)), codes) for cid, codes in by_coder.items()],
        error=error,
    )


def _segments(text: str, spans: list[Span]) -> list[tuple[str, str]]:
    """The text cut into (piece, flag kind or "") for highlighting."""
    out: list[tuple[str, str]] = []
    position = 0
    for span in spans:
        out.append((text[position : span.start], ""))
        out.append((span.text, span.kind))
        position = span.end
    out.append((text[position:], ""))
    return [p for p in out if p[0]]


@bp.route("/quote/<response_id>/<item>", methods=["GET", "POST"])
@roles(*CODERS)
def quote(response_id: str, item: str) -> str | WerkzeugResponse:
    """Choose a quote, screen it for personal information, redact, and clear it."""
    session, user_id, community_id, unit = _unit_view(response_id, item)
    excerpt = request.form.get("excerpt", "").strip() or unit.text
    spans = coding.screen_quote(session, community_id, excerpt)
    redacted = request.form.get("redacted", "").strip() or redact(excerpt, spans)
    error = ""
    if request.method == "POST" and request.form.get("action") == "approve":
        theme = request.form.get("theme", "")
        saved, error = _save(
            lambda: coding.approve_quote(
                session,
                actor_id=user_id,
                community_id=community_id,
                response_id=unit.response_id,
                item=item,
                excerpt=excerpt,
                redacted=redacted,
                theme_id=_theme_ids([theme])[0] if theme else None,
                checked_remaining=request.form.get("checked") == "1",
            ),
            done="The quote can now be used in reports.",
            then=url_for("coding.quotes"),
        )
        if saved is not None:
            return saved
    return render_template(
        "coding/quote.html",
        unit=unit,
        excerpt=excerpt,
        segments=_segments(excerpt, spans),
        flags=spans,
        redacted=redacted,
        themes=coding.themes(session, community_id),
        error=error,
    )


@bp.get("/quotes")
@roles(*CODERS)
def quotes() -> str:
    """Quotes cleared for reports."""
    session = db_session()
    _, community_id = _ids()
    names = {t.id: t.name for t in coding.themes(session, community_id)}
    rows = list(
        session.scalars(
            select(QuoteApproval)
            .join(Response, Response.id == QuoteApproval.response_id)
            .join(Wave, Wave.id == Response.wave_id)
            .where(Wave.community_id == community_id)
            .order_by(QuoteApproval.approved_at.desc())
        )
    )
    return render_template("coding/quotes.html", quotes=rows, names=names)

"""The end of the respondent's flow: check answers, submit exactly once, thank you.

The common case of a submit never reaches :func:`submit`: :mod:`webapp.take.fast` answers
it first. This view handles everything else the same way it always has.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from surveys.models import Response
from surveys.services import check_response_id
from surveys.services.drafts import DraftError, DraftProblem
from surveys.services.submit import submit_draft
from surveys.validation import relevant_items
from webapp.database import db_engine, db_session
from webapp.extensions import csrf
from webapp.take import bp
from webapp.take.flow import (
    INTERFACE_LANGUAGES,
    SESSION_LANG,
    answer_text,
    bind,
    bound,
    error_text,
    field_id,
    token_ok,
    use_language,
)
from webapp.take.routes import Ctx, Page_, load_draft, message_page, problem_message

# --- check answers, submit, done ------------------------------------------------------------


@bp.get("/s/<rid>/check")
def check_answers(rid: str) -> Page_:
    """Every answer, with a Change link; then Send."""
    ctx = load_draft(rid)
    if not isinstance(ctx, Ctx):
        return ctx
    return _check_view(ctx, [])


def _check_view(ctx: Ctx, errors: list[tuple[str, str]]) -> str:
    answers = ctx.response.answers or {}
    relevance = relevant_items(ctx.instrument, answers)
    pages = ctx.pages()
    sections: list[dict[str, Any]] = []
    for page in pages:
        group = ctx.instrument.group(page.group) if page.group else None
        rows = []
        for name in page.items:
            item = ctx.instrument.item(name)
            if not item.answerable or item.sgic or not relevance.get(name):
                continue  # code parts are never kept, so never shown back
            rows.append(
                {
                    "name": name,
                    "label": item.label(ctx.language),
                    "answer": answer_text(item, answers.get(name), ctx.language),
                    "change": url_for("take.question", rid=ctx.rid, key=page.key)
                    + f"?return=check#{field_id(name)}",
                }
            )
        heading = group.label(ctx.language) if group else ""
        if not rows:
            continue
        if sections and sections[-1]["heading"] == heading and heading:
            sections[-1]["rows"].extend(rows)
        else:
            sections.append({"heading": heading, "rows": rows})
    back_url = (
        url_for("take.question", rid=ctx.rid, key=pages[-1].key)
        if pages
        else url_for("take.intro", rid=ctx.rid)
    )
    return render_template(
        "take/check.html",
        sections=sections,
        errors=errors,
        back_url=back_url,
        answered=sum(1 for r in sections for row in r["rows"] if row["answer"]),
        **ctx.common(),
    )


@csrf.exempt  # type: ignore[untyped-decorator]
@bp.post("/s/<rid>/submit")
def submit(rid: str) -> Page_:
    """Send the answers: idempotent, so a double click or a retry stores one response."""
    try:
        rid = check_response_id(rid)
    except ValueError:
        abort(404)
    if not (token_ok(rid, request.form.get("draft_token")) or bound(rid)):
        return redirect(url_for("take.resume", rid=rid))
    try:
        result = submit_draft(db_engine(), rid)
    except DraftError as err:
        if err.problem is DraftProblem.NO_DRAFT:
            abort(404)
        use_language(str(session.get(SESSION_LANG, "en")))
        return message_page(_("Your answers could not be sent"), problem_message(err.problem), 409)
    if result.validated is not None and not result.validated.ok:
        bind(rid)
        draft = db_session().get(Response, rid)
        if draft is None:
            abort(404)
        ctx = Ctx(draft)
        errors = [
            (field_id(e.item), error_text(e, ctx.instrument.item(e.item), ctx.language))
            for e in result.validated.errors
        ]
        return _check_view(ctx, errors)
    return redirect(url_for("take.done", who=result.channel, lang=result.language))


@bp.get("/done")
def done() -> WerkzeugResponse:
    """Thank you; pass the device on. Clears the session and the browser's site data."""
    session.clear()
    language = request.args.get("lang", "en")
    lang = use_language(language if language in INTERFACE_LANGUAGES else "en")
    who = request.args.get("who", "class")
    page = render_template("take/done.html", pupil=who != "web", **lang)
    response = current_app.make_response(page)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response

"""The respondent's flow: code -> intro -> language -> question pages -> check -> done."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from instruments import Instrument
from instruments.model import Page
from surveys.models import AccessCode, Response
from surveys.services import check_response_id, instrument_of, normalise_code
from surveys.services.drafts import (
    DraftError,
    DraftProblem,
    area_for_postcode,
    find_code,
    page_layout,
    resume_draft,
    save_page,
    set_language,
    start_draft,
    visible_pages,
)
from surveys.services.ratelimit import RateLimited, check, client_key, record
from surveys.validation import relevant_items
from webapp.database import db_session
from webapp.extensions import csrf
from webapp.redirects import safe_target
from webapp.take import bp
from webapp.take.flow import (
    INTERFACE_LANGUAGES,
    SESSION_LANG,
    bind,
    bound,
    client_address,
    draft_token,
    error_text,
    field_id,
    form_errors,
    raw_answers,
    token_ok,
    use_language,
)
from webapp.take.forms import ResumeForm, StartForm
from webapp.take.languages import offered, open_instruments

Page_ = str | WerkzeugResponse | tuple[str, int]
#: Session key: a language chosen before the code that the questionnaire does not have.
SESSION_MISSING = "take_lang_missing"


# --- messages ---------------------------------------------------------------------------


def problem_message(problem: DraftProblem) -> str:
    """What a respondent reads when a code or draft cannot be used."""
    messages: dict[DraftProblem, str] = {
        DraftProblem.UNKNOWN_CODE: _(
            "We did not recognise that code. Check it with your teacher, or on your letter,"
            " and type it again."
        ),
        DraftProblem.REVOKED: _(
            "That code has expired or been withdrawn. Ask your teacher for a new code."
        ),
        DraftProblem.USED_UP: _(
            "That code from a letter has already been used. If you started the survey,"
            " use your resume word to carry on."
        ),
        DraftProblem.WAVE_CLOSED: _(
            "This survey has closed, so it is not taking answers any more. Thank you for"
            " wanting to take part."
        ),
        DraftProblem.WAVE_NOT_OPEN: _(
            "This survey has not opened yet. Please try again when your teacher says so."
        ),
        DraftProblem.NO_DRAFT: _(
            "We could not find an unfinished survey with that code and resume word."
            " Check both and try again."
        ),
        DraftProblem.NOT_DRAFT: _("These answers have already been sent. Thank you!"),
    }
    return messages[problem]


def limited_message(err: RateLimited) -> str:
    """The rate-limit message, with the wait in minutes."""
    minutes = max(1, (err.retry_after + 59) // 60)
    return str(
        _(
            "Too many wrong codes have been typed on this network. Wait %(minutes)s minute(s),"
            " then try again. If your code still does not work, ask your teacher.",
            minutes=minutes,
        )
    )


def _limit_key() -> str:
    return client_key(client_address(), str(current_app.secret_key or ""))


def _start_language(languages: dict[str, str]) -> dict[str, str]:
    """The page language of a page before a draft exists, among the ``languages`` offered."""
    lang = request.args.get("lang", "")
    if lang in languages:
        session[SESSION_LANG] = lang
    if session.get(SESSION_LANG, "en") not in languages:
        session.pop(SESSION_LANG, None)
    return use_language(session.get(SESSION_LANG, "en"))


def message_page(title: str, text: str, status: int = 200, **lang: str) -> tuple[str, int]:
    return render_template("take/message.html", title=title, text=text, **lang), status


# --- the draft a request is about -------------------------------------------------------


class Ctx:
    """A loaded draft with its instrument, pages and page language."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.instrument: Instrument = instrument_of(response.instrument_version)
        self.layout = page_layout(self.instrument, early_postcode=response.channel == "web")
        self.lang = use_language(response.language)

    @property
    def rid(self) -> str:
        return self.response.id

    @property
    def language(self) -> str:
        return self.response.language

    def pages(self) -> list[Page]:
        return visible_pages(self.instrument, self.layout, self.response.answers or {})

    def page_index(self, key: str) -> int | None:
        for index, page in enumerate(self.pages()):
            if page.key == key:
                return index
        return None

    def common(self) -> dict[str, Any]:
        """Template values every draft page needs."""
        return {
            **self.lang,
            "rid": self.rid,
            "token": draft_token(self.rid),
            "resume_word": self.response.resume_word,
            "languages": self.instrument.languages,
            "language": self.language,
            "title": self.instrument.title(self.language),
            "pupil": self.response.channel == "class",
            # The partnership survey is answered for an organisation (English only).
            "partnership": self.instrument.id == "partnership",
        }


def load_draft(rid: str) -> Ctx | WerkzeugResponse:
    """The draft ``rid`` if this browser holds it (or the POST proves it); else a redirect."""
    try:
        rid = check_response_id(rid)
    except ValueError:
        abort(404)
    response = db_session().get(Response, rid)
    if response is None:
        abort(404)
    if not bound(rid):
        if request.method == "POST" and token_ok(rid, request.form.get("draft_token")):
            bind(rid)
        else:
            return redirect(url_for("take.resume", rid=rid))
    if response.status != "draft":
        return redirect(url_for("take.done", who=response.channel, lang=response.language))
    return Ctx(response)


# --- start, area links, resume ------------------------------------------------------------


@bp.route("/start", methods=["GET", "POST"])
def start() -> Page_:
    """Type a class code, or a code from a letter."""
    languages = offered(open_instruments())
    lang = _start_language(languages)
    form = StartForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"]
    error = ""
    status = 200
    if form.validate_on_submit():
        db = db_session()
        key = _limit_key()
        try:
            check(db, bucket="code", key=key)
            code = find_code(db, form.code.data or "")
        except RateLimited as err:
            error, status = limited_message(err), 429
        except DraftError as err:
            record(db, bucket="code", key=key)
            db.commit()
            error = problem_message(err.problem)
        else:
            wanted = session.get(SESSION_LANG, "")
            draft = start_draft(db, code=code, language=wanted)
            db.commit()
            session.pop(SESSION_LANG, None)
            if wanted and draft.language != wanted:
                session[SESSION_MISSING] = wanted  # the intro says it is not available
            bind(draft.id)
            return redirect(url_for("take.intro", rid=draft.id))
    errors = form_errors(form, "code", problem=error)
    return render_template(
        "take/start.html",
        form=form,
        errors=errors,
        interface_languages=languages,
        **lang,
    ), status


@bp.get("/r/<code>")
def area_link(code: str) -> Page_:
    """A resident's area link or a letter's link: a page with a Start button (no GET writes)."""
    db = db_session()
    access: AccessCode | None = None
    try:
        access = find_code(db, code)
    except DraftError as err:
        lang = _start_language(INTERFACE_LANGUAGES)
        return message_page(
            _("This link cannot be used"), problem_message(err.problem), 404, **lang
        )
    languages = offered([instrument_of(access.instrument_version)])
    lang = _start_language(languages)
    form = StartForm()
    form.code.data = normalise_code(code)
    return render_template(
        "take/area.html",
        form=form,
        access=access,
        interface_languages=languages,
        **lang,
    )


@bp.route("/resume", methods=["GET", "POST"])
def resume() -> Page_:
    """Carry on with a saved survey: the code used to start and the resume word."""
    languages = offered(open_instruments())
    lang = _start_language(languages)
    form = ResumeForm()
    error = ""
    status = 200
    if form.validate_on_submit():
        db = db_session()
        key = _limit_key()
        try:
            check(db, bucket="resume", key=key)
            draft = resume_draft(db, code_text=form.code.data or "", word=form.word.data or "")
        except RateLimited as err:
            error, status = limited_message(err), 429
        except DraftError as err:
            record(db, bucket="resume", key=key)
            db.commit()
            error = problem_message(err.problem)
        else:
            bind(draft.id)
            return redirect(url_for("take.carry_on", rid=draft.id))
    errors = form_errors(form, "code", "word", problem=error)
    return render_template(
        "take/resume.html",
        form=form,
        errors=errors,
        interface_languages=languages,
        **lang,
    ), status


@bp.get("/s/<rid>")
def carry_on(rid: str) -> Page_:
    """Where a resumed survey carries on: the page after the last one answered."""
    ctx = load_draft(rid)
    if not isinstance(ctx, Ctx):
        return ctx
    answers = ctx.response.answers or {}
    pages = ctx.pages()
    last = -1
    for index, page in enumerate(pages):
        if any(name in answers for name in page.items):
            last = index
    if last < 0:
        return redirect(url_for("take.intro", rid=ctx.rid))
    if last + 1 < len(pages):
        return redirect(url_for("take.question", rid=ctx.rid, key=pages[last + 1].key))
    return redirect(url_for("take.check_answers", rid=ctx.rid))


# --- intro and language -------------------------------------------------------------------


def _first_step(ctx: Ctx) -> str:
    if len(ctx.instrument.languages) > 1:
        return url_for("take.language", rid=ctx.rid)
    return _first_page(ctx)


def _first_page(ctx: Ctx) -> str:
    pages = ctx.pages()
    if not pages:
        return url_for("take.check_answers", rid=ctx.rid)
    return url_for("take.question", rid=ctx.rid, key=pages[0].key)


@bp.route("/s/<rid>/intro", methods=["GET", "POST"])
def intro(rid: str) -> Page_:
    """What this is, that it is not a test, that anything can be skipped."""
    ctx = load_draft(rid)
    if not isinstance(ctx, Ctx):
        return ctx
    if request.method == "POST":
        return redirect(_first_step(ctx))
    missing = session.pop(SESSION_MISSING, "")
    return render_template(
        "take/intro.html",
        next_url=_first_step(ctx),
        minutes=ctx.instrument.estimated_minutes,
        missing_language=INTERFACE_LANGUAGES.get(missing, ""),
        missing_code=missing if missing in INTERFACE_LANGUAGES else "",
        **ctx.common(),
    )


@csrf.exempt  # type: ignore[untyped-decorator]
@bp.route("/s/<rid>/language", methods=["GET", "POST"])
def language(rid: str) -> Page_:
    """Choose the survey language; also the target of the switch on every page."""
    ctx = load_draft(rid)
    if not isinstance(ctx, Ctx):
        return ctx
    if request.method == "POST":
        if not token_ok(ctx.rid, request.form.get("draft_token")):
            abort(400)
        chosen = request.form.get("lang", "")
        if set_language(ctx.response, chosen):
            db_session().commit()
        target = safe_target(request.form.get("next"), within=f"/s/{ctx.rid}/")
        return redirect(target or _first_page(ctx))
    return render_template(
        "take/language.html",
        back_url=url_for("take.intro", rid=ctx.rid),
        hide_lang_switch=True,
        **ctx.common(),
    )


# --- question pages -----------------------------------------------------------------------


def _page_view(ctx: Ctx, page: Page, values: dict[str, Any], errors: list[tuple[str, str]]) -> str:
    pages = ctx.pages()
    index = next((i for i, p in enumerate(pages) if p.key == page.key), 0)
    relevance = relevant_items(ctx.instrument, ctx.response.answers or {})
    shown = [ctx.instrument.item(n) for n in page.items if relevance.get(n, True)]
    back_to_check = request.values.get("return") == "check"
    if back_to_check:
        back_url = url_for("take.check_answers", rid=ctx.rid)
    elif index > 0:
        back_url = url_for("take.question", rid=ctx.rid, key=pages[index - 1].key)
    elif len(ctx.instrument.languages) > 1:
        back_url = url_for("take.language", rid=ctx.rid)
    else:
        back_url = url_for("take.intro", rid=ctx.rid)
    group = ctx.instrument.group(page.group) if page.group else None
    error_by_item = dict(errors)
    return render_template(
        "take/question.html",
        page=page,
        items=shown,
        answerable=[i for i in shown if i.answerable],
        heading=group.label(ctx.language) if group else "",
        values=values,
        errors=[(field_id(name), message) for name, message in errors],
        error_by_item=error_by_item,
        number=index + 1,
        total=len(pages),
        back_url=back_url,
        return_to=request.values.get("return", ""),
        field_id=field_id,
        lang_form="answers",
        **ctx.common(),
    )


@csrf.exempt  # type: ignore[untyped-decorator]
@bp.route("/s/<rid>/q/<key>", methods=["GET", "POST"])
def question(rid: str, key: str) -> Page_:
    """One question, or a short group of related statements."""
    ctx = load_draft(rid)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        page = next(p for p in ctx.layout if p.key == key)
    except StopIteration:
        abort(404)
    if request.method == "GET":
        if ctx.page_index(key) is None:  # hidden by relevance: go on to the next page
            return redirect(_after(ctx, page))
        return _page_view(ctx, page, dict(ctx.response.answers or {}), [])
    if not token_ok(ctx.rid, request.form.get("draft_token")):
        abort(400)
    db = db_session()
    relevance = relevant_items(ctx.instrument, ctx.response.answers or {})
    names = [n for n in page.items if relevance.get(n, True)]
    raw = raw_answers(ctx.instrument, names, request.form)
    try:
        validated = save_page(
            db, ctx.response, raw=raw, items=names, code_secret=current_app.config["SECRET_KEY"]
        )
    except DraftError as err:
        db.rollback()
        return message_page(_("Your answers could not be saved"), problem_message(err.problem), 409)
    if ctx.response.channel == "web" and "postcode" in names and "postcode" in raw:
        _place_resident(ctx)
    switch = request.form.get("lang", "")
    if switch and set_language(ctx.response, switch):
        db.commit()
        ctx.lang = use_language(switch)
        target = url_for("take.question", rid=ctx.rid, key=key)
        if request.form.get("return") == "check":
            target += "?return=check"
        return redirect(target)
    db.commit()
    if not validated.ok:
        values = {**(ctx.response.answers or {}), **raw}
        errors = [
            (e.item, error_text(e, ctx.instrument.item(e.item), ctx.language))
            for e in validated.errors
        ]
        return _page_view(ctx, page, values, errors)
    if request.form.get("return") == "check":
        return redirect(url_for("take.check_answers", rid=ctx.rid))
    return redirect(_after(ctx, page))


def _after(ctx: Ctx, page: Page) -> str:
    """The next page that applies after ``page`` (in layout order), else check answers."""
    visible = {p.key for p in ctx.pages()}
    keys = [p.key for p in ctx.layout]
    for later in ctx.layout[keys.index(page.key) + 1 :]:
        if later.key in visible:
            return url_for("take.question", rid=ctx.rid, key=later.key)
    return url_for("take.check_answers", rid=ctx.rid)


def _place_resident(ctx: Ctx) -> None:
    """Put a resident in the area their postcode belongs to (if the lookup knows it)."""
    postcode = (ctx.response.answers or {}).get("postcode")
    if not postcode:
        return
    area = area_for_postcode(db_session(), ctx.response.wave.community_id, str(postcode))
    if area is not None:
        ctx.response.site_id = area.id

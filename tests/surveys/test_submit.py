"""Submitting a draft: once, validated, and right when something changes in between."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from surveys.models import Response, Wave
from surveys.services import submit as submit_module
from surveys.services.drafts import DraftError, DraftProblem, save_page, start_draft
from surveys.services.responses import answers_hash
from surveys.services.submit import OPTIMISTIC_TRIES, submit_draft


@pytest.fixture
def draft(
    session: Session, make_site: Any, make_class: Any, make_wave: Any, make_code: Any
) -> Callable[..., str]:
    """draft(**answers): a saved pupil draft; returns its id."""
    wave = make_wave(instruments=("pupil_perception",))
    site = make_site("S1")
    code = make_code(wave, site, make_class(site))

    def make(**answers: object) -> str:
        response = start_draft(session, code=code)
        save_page(session, response, raw=answers, items=list(answers))
        session.commit()
        return response.id

    return make


def _stored(session: Session, rid: str) -> Response:
    session.expire_all()
    response = session.get(Response, rid)
    assert response is not None
    return response


def _bump(engine: Engine, rid: str, **values: object) -> None:
    """Change the draft from another connection (a page saved in another window)."""
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
        conn.execute(
            update(Response)
            .where(Response.id == rid)
            .values(updated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None), **values)
        )


def test_submits_once_with_the_content_hash_of_what_was_validated(
    engine: Engine, session: Session, draft: Callable[..., str]
) -> None:
    rid = draft(year_group="year6", gender="girl", life_satisfaction="10")
    first = submit_draft(engine, rid)
    assert first.created and first.validated is not None and first.validated.ok
    again = submit_draft(engine, rid)
    assert not again.created and again.validated is None
    stored = _stored(session, rid)
    assert stored.status == "submitted" and stored.resume_word is None
    assert stored.answers == first.validated.answers
    assert isinstance(stored.submitted_at, dt.datetime)
    assert stored.content_hash == answers_hash(
        {
            "answers": stored.answers,
            "wave": stored.wave_id,
            "version": stored.instrument_version_id,
            "site": stored.site_id,
            "class": stored.class_id,
        }
    )


def test_both_ways_of_writing_store_the_same(
    engine: Engine, session: Session, draft: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQLite path (DB-API) and the Core path store identical rows."""
    answers = {"year_group": "year6", "gender": "boy", "life_satisfaction": "7"}
    first, second = draft(**answers), draft(**answers)
    now = dt.datetime(2027, 3, 1, 10, 30, 15, 123456)
    submit_draft(engine, first, now=now)
    monkeypatch.setattr(engine.dialect, "driver", "not-pysqlite")  # forces the Core path
    submit_draft(engine, second, now=now)
    a, b = _stored(session, first), _stored(session, second)
    for column in ("status", "answers", "content_hash", "language", "resume_word"):
        assert getattr(a, column) == getattr(b, column), column
    assert a.submitted_at == b.submitted_at and a.updated_at == b.updated_at
    assert a.submitted_at is not None and a.submitted_at.replace(tzinfo=None) == now


def _between_read_and_write(
    monkeypatch: pytest.MonkeyPatch, happen: Callable[[int], None]
) -> dict[str, int]:
    """Run ``happen(n)`` after the n-th validation, before the write; returns the count."""
    real = submit_module.validate_answers
    calls = {"n": 0}

    def validate_then(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        result = real(*args, **kwargs)
        happen(calls["n"])
        return result

    monkeypatch.setattr(submit_module, "validate_answers", validate_then)
    return calls


def test_a_page_saved_between_read_and_write_is_read_again(
    engine: Engine, session: Session, draft: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = draft(year_group="year6")

    def another_window_saves(n: int) -> None:
        if n == 1:
            _bump(engine, rid, answers={"year_group": "year6", "gender": "girl"})

    calls = _between_read_and_write(monkeypatch, another_window_saves)
    assert submit_draft(engine, rid).created and calls["n"] == 2
    stored = _stored(session, rid)
    assert stored.answers == {"year_group": "year6", "gender": "girl"}  # nothing lost


def test_a_wave_closed_between_read_and_write_refuses(
    engine: Engine, session: Session, draft: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = draft(year_group="year6")
    wave_id = _stored(session, rid).wave_id

    def the_wave_closes(_n: int) -> None:
        with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
            conn.execute(update(Wave).where(Wave.id == wave_id).values(status="closed"))

    _between_read_and_write(monkeypatch, the_wave_closes)
    with pytest.raises(DraftError) as raised:
        submit_draft(engine, rid)
    assert raised.value.problem is DraftProblem.WAVE_CLOSED
    assert _stored(session, rid).status == "draft"


def test_a_draft_that_keeps_changing_is_submitted_under_the_lock(
    engine: Engine, session: Session, draft: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = draft(year_group="year6")

    def every_optimistic_attempt_loses(n: int) -> None:
        if n <= OPTIMISTIC_TRIES:
            _bump(engine, rid, language="en")

    calls = _between_read_and_write(monkeypatch, every_optimistic_attempt_loses)
    assert submit_draft(engine, rid).created and calls["n"] == OPTIMISTIC_TRIES + 1
    assert _stored(session, rid).status == "submitted"


def test_invalid_answers_and_missing_drafts(
    engine: Engine, session: Session, draft: Callable[..., str]
) -> None:
    rid = draft(year_group="year6")
    _bump(engine, rid, answers={"year_group": "year6", "no_such_item": "x"})
    result = submit_draft(engine, rid)
    assert not result.created and result.validated is not None and not result.validated.ok
    assert _stored(session, rid).status == "draft"
    with pytest.raises(DraftError) as raised:
        submit_draft(engine, "00000000-0000-4000-8000-000000000000")
    assert raised.value.problem is DraftProblem.NO_DRAFT


def test_the_sqlite_path_is_the_one_used_on_sqlite(engine: Engine) -> None:
    with submit_module._store(engine) as store:
        expected = "_SQLiteStore" if engine.dialect.name == "sqlite" else "_CoreStore"
        assert type(store).__name__ == expected


def test_the_live_count_leaves_out_drafts_left_long_ago(
    engine: Engine, session: Session, draft: Callable[..., str]
) -> None:
    from surveys.services.drafts import ANSWERING_WINDOW, class_counts

    finished, active, abandoned = draft(year_group="year6"), draft(), draft()
    submit_draft(engine, finished)
    long_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - ANSWERING_WINDOW * 3
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
        conn.execute(update(Response).where(Response.id == abandoned).values(updated_at=long_ago))
    stored = _stored(session, active)
    counts = class_counts(session, class_id=stored.class_id, wave_id=stored.wave_id)
    assert (counts.started, counts.answering, counts.finished) == (3, 1, 1)
    assert counts.size == 28

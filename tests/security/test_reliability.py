"""A database that fails mid-request: the client is told to retry, nothing is half-stored,
and the retry stores the response exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from surveys.models import Response
from tests.security.conftest import World


def test_a_failed_commit_during_submit_is_a_503_and_the_retry_stores_once(
    app: Any, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    started = client.post("/start", data={"code": world.code_b.code})
    assert started.status_code == 302
    rid = started.headers["Location"].split("/")[2]

    real_commit = Session.commit
    calls = {"n": 0}

    def failing_commit(self: Session) -> None:
        calls["n"] += 1
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(Session, "commit", failing_commit)
    reply = client.post(f"/s/{rid}/submit")
    monkeypatch.setattr(Session, "commit", real_commit)
    assert calls["n"] >= 1
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "5"
    assert b"nothing you sent was lost" in reply.data

    session.commit()
    draft = session.get(Response, rid)
    assert draft is not None and draft.status == "draft" and draft.submitted_at is None

    retry = client.post(f"/s/{rid}/submit")
    assert retry.status_code == 302 and "/done" in retry.headers["Location"]
    again = client.post(f"/s/{rid}/submit")  # a double click after success
    assert again.status_code in (302, 303)
    session.commit()
    submitted = session.scalar(
        select(func.count(Response.id)).where(Response.status == "submitted")
    )
    assert submitted == 1

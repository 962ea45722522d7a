"""A database that fails mid-request: the client is told to retry, nothing is half-stored,
and the retry stores the response exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from surveys.models import Response
from surveys.services import submit as submit_module
from tests.security.conftest import World


def test_a_failed_write_during_submit_is_a_503_and_the_retry_stores_once(
    app: Any, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    started = client.post("/start", data={"code": world.code_b.code})
    assert started.status_code == 302
    rid = started.headers["Location"].split("/")[2]

    calls = {"n": 0}

    def failing_write(self: Any, params: dict[str, Any]) -> int:
        calls["n"] += 1
        raise OperationalError("UPDATE responses", {}, Exception("database is locked"))

    # The write fails inside its transaction, on whichever database the suite runs on.
    with monkeypatch.context() as patch:
        patch.setattr(submit_module._SQLiteStore, "write", failing_write)
        patch.setattr(submit_module._CoreStore, "write", failing_write)
        reply = client.post(f"/s/{rid}/submit")
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

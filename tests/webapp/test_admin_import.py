"""The core team's import page: upload, preview every problem, confirm; community-scoped."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, Response, Site, Wave
from surveys.services import create_wave, get_or_create_community
from tests.fixtures import exports

TOKEN = re.compile(r'name="token"[^>]* value="([^"]+)"')


@pytest.fixture
def wave(make_site: Callable[..., Site], make_wave: Callable[..., Wave]) -> Wave:
    for code, name in exports.SCHOOLS.items():
        make_site(code, name=name)
    return make_wave()


def count(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count(Response.id))) or 0


def preview(client: Any, wave: Wave, data: bytes, name: str, **fields: Any) -> Any:
    return client.post(
        f"/admin/waves/{wave.id}/import",
        data={
            "file": (io.BytesIO(data), name),
            "instrument": "pupil_perception",
            **fields,
        },
        content_type="multipart/form-data",
    )


def test_preview_names_every_problem_then_confirm_stores_the_rest(
    client: Any, login: Any, make_user: Any, session: Session, wave: Wave
) -> None:
    login(make_user("admin"))
    assert f'href="/admin/waves/{wave.id}/import"' in client.get(
        f"/admin/waves/{wave.id}"
    ).get_data(as_text=True)
    page = preview(client, wave, exports.kobo_csv(exports.pupils(), messy=True), "kobo.csv")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for expected in (
        "Fairly satisfied",
        "there is no site &#39;Oak School&#39;",
        "Rows read</dt><dd>24",
    ):
        assert expected in html
    assert "marked &#39;not approved&#39; in KoboToolbox" in html
    assert count(session) == 0  # a preview stores nothing
    token = TOKEN.search(html)
    assert token
    stored = client.post(
        f"/admin/waves/{wave.id}/import/confirm",
        data={"token": token.group(1), "skip_invalid": "1"},
    )
    assert stored.status_code == 302
    assert count(session) == 22
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "responses_import"))
    assert entry is not None and entry.detail["added"] == 22
    # The kept file is gone once stored.
    again = client.post(
        f"/admin/waves/{wave.id}/import/confirm",
        data={"token": token.group(1), "skip_invalid": "1"},
    )
    assert again.status_code == 410


def test_confirm_without_skipping_stores_nothing_from_a_file_with_problems(
    client: Any, login: Any, make_user: Any, session: Session, wave: Wave
) -> None:
    login(make_user("admin"))
    html = preview(client, wave, exports.odk_zip(exports.pupils(), messy=True), "odk.zip")
    token = TOKEN.search(html.get_data(as_text=True))
    assert token
    reply = client.post(f"/admin/waves/{wave.id}/import/confirm", data={"token": token.group(1)})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/import")
    assert count(session) == 0


def test_an_unreadable_file_is_a_clear_message(
    client: Any, login: Any, make_user: Any, wave: Wave
) -> None:
    login(make_user("admin"))
    page = preview(client, wave, b"PK\x03\x04broken", "export.zip")
    assert page.status_code == 200
    assert "it is a broken zip file" in page.get_data(as_text=True)


def test_another_communitys_wave_and_token_are_not_found(
    app: Any, client: Any, login: Any, make_user: Any, session: Session, wave: Wave
) -> None:
    other = get_or_create_community(session, slug="tower", name="Tower")
    theirs = create_wave(
        session, community=other, name="Theirs", instrument_ids=("pupil_perception",)
    )
    session.commit()
    login(make_user("admin"))
    assert client.get(f"/admin/waves/{theirs.id}/import").status_code == 404
    assert preview(client, theirs, exports.kobo_csv(exports.pupils()), "k.csv").status_code == 404
    html = preview(client, wave, exports.kobo_csv(exports.pupils()), "k.csv").get_data(as_text=True)
    token = TOKEN.search(html)
    assert token
    # The token is bound to the wave it was previewed for.
    reply = client.post(f"/admin/waves/{theirs.id}/import/confirm", data={"token": token.group(1)})
    assert reply.status_code == 404
    assert count(session) == 0


def test_staff_who_are_not_core_team_cannot_import(
    client: Any, login: Any, make_user: Any, wave: Wave
) -> None:
    school = wave.community.sites[0]
    login(make_user("school_staff", sites=(school,)))
    assert client.get(f"/admin/waves/{wave.id}/import").status_code == 403
    reply = preview(client, wave, exports.kobo_csv(exports.pupils()), "k.csv")
    assert reply.status_code == 403


def test_the_import_form_needs_a_csrf_token(
    app_config: dict[str, Any], make_user: Any, wave: Wave, session: Session
) -> None:
    from webapp import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    try:
        user = make_user("admin")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token
        client.post(
            "/login",
            data={
                "email": user.email,
                "password": exports_password(),
                "csrf_token": token.group(1),
            },
        )
        forged = preview(client, wave, exports.kobo_csv(exports.pupils()), "k.csv")
        assert forged.status_code == 400 or "csrf" in forged.get_data(as_text=True).lower()
        forged_confirm = client.post(
            f"/admin/waves/{wave.id}/import/confirm", data={"token": "x" * 32}
        )
        assert forged_confirm.status_code == 400
        assert count(session) == 0
    finally:
        app.extensions["placevoice.engine"].dispose()


def exports_password() -> str:
    from tests.conftest import PASSWORD

    return PASSWORD

"""Object-level authorization on every write, generated from ``app.url_map``.

Every state-changing route (POST, PUT, PATCH, DELETE) has a ``Write`` in ``WRITES``
(``tests/security/write_cases.py``):
a request that really changes stored rows when one of the ``allowed`` actors sends it,
or a reason in ``NO_OBJECT`` why the route names no stored object. A route with neither
fails :func:`test_every_state_changing_route_has_a_case`, so a new route is covered from
the day it is added.

For each case, every other actor sends the same request (and the ``foreign`` requests,
which name another community's objects in the body) and must be refused — 401, 403,
404, or a redirect to the sign-in or resume page — with **no row of any table changed**
(a snapshot of every table before and after; the only rows an attempt may add are its
own audit entries). Then the first allowed actor sends it, and some row must change:
that proves the request is one that would have worked, so the refusals are real.

Actors: anonymous; admin, school staff of school A (``staff_own``) and of school B
(``staff_other``), researcher and coder of community 1 (the objects' community); admin,
school staff, researcher and coder of community 2; and ``pupil``, the browser holding
the survey draft.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from instruments import load_instrument
from surveys.db import make_engine
from surveys.models import AuditEntry, Base, InstrumentVersion, Site
from surveys.models.field import Theme
from surveys.models.rate_limits import RateEvent
from surveys.services import create_user, create_wave, get_or_create_community
from surveys.services.setup import register_instrument
from tests.conftest import PASSWORD
from tests.security.conftest import World
from tests.security.write_cases import (
    ACTORS,
    NO_OBJECT,
    OTHER_COMMUNITY,
    STAFF_ACTORS,
    STATE_CHANGING,
    WRITES,
    Request,
    Scene,
    Write,
)


def _state_changing(app: Any) -> list[tuple[str, str]]:
    return sorted(
        {
            (rule.endpoint, method)
            for rule in app.url_map.iter_rules()
            for method in rule.methods or ()
            if method in STATE_CHANGING
        }
    )


def test_every_state_changing_route_has_a_case(app: Any) -> None:
    routes = _state_changing(app)
    known = set(WRITES) | set(NO_OBJECT)
    missing = [pair for pair in routes if pair not in known]
    assert missing == [], (
        "state-changing routes without a case: add a Write to WRITES (or a reason to"
        f" NO_OBJECT) in tests/security/write_cases.py: {missing}"
    )
    stale = sorted(known - set(routes))
    assert stale == [], f"cases for routes that do not exist: {stale}"


# --- the scene -------------------------------------------------------------------------


def _sign_in(app: Any, email: str) -> Any:
    client = app.test_client()
    reply = client.post("/login", data={"email": email, "password": PASSWORD})
    assert reply.status_code == 302, reply.data[:300]
    return client


@pytest.fixture
def scene(app: Any, world: World, session: Any) -> Scene:
    other = get_or_create_community(session, slug="other", name="Other Community")
    session.flush()
    school2 = Site(community=other, code="S2", name="Other School", kind="school")
    area2 = Site(community=other, code="A2", name="Other Area", kind="area", postcodes="E9 1")
    session.add_all([school2, area2])
    session.flush()
    users = dict(world.users)
    for actor, role, sites in (
        ("admin2", "admin", ()),
        ("staff2", "school_staff", (school2,)),
        ("researcher2", "researcher", (area2,)),
        ("coder2", "coder", ()),
    ):
        users[actor] = create_user(
            session,
            community=other,
            email=f"{actor}@other.example",
            password=PASSWORD,
            role=role,
            site_ids=[s.id for s in sites],
        )
    wave2 = create_wave(
        session, community=other, name="Other Spring", instrument_ids=("peer_interview",)
    )
    wave2.status = "open"
    local = "| survey |\n| | type | name | label |\n| | text | q | Q |\n| settings |\n"
    local += "| | form_id | version |\n| | local_form | 1 |\n"
    register_instrument(
        session,
        load_instrument(local.encode(), file_type=".md", name="local"),
        community_id=world.wave.community_id,
    )
    theme2 = Theme(community_id=other.id, name="Other theme")
    session.add(theme2)
    session.commit()
    versions = select(InstrumentVersion.instrument_id, InstrumentVersion.id)
    version_ids: dict[str, int] = dict(
        session.execute(versions.order_by(InstrumentVersion.id)).all()
    )
    clients = {"anonymous": app.test_client()}
    for actor in (*STAFF_ACTORS, *OTHER_COMMUNITY):
        clients[actor] = _sign_in(app, users[actor].email)
    pupil = app.test_client()
    started = pupil.post("/start", data={"code": world.code_a.code})
    assert started.status_code == 302, started.data[:300]
    rid = started.headers["Location"].split("/s/")[1].split("/")[0]
    clients["pupil"] = pupil
    made = Scene(world, app, clients, users, wave2, area2, theme2, rid, "", version_ids, session)
    location = pupil.post(f"/s/{rid}/intro").headers["Location"]
    if "/language" in location:
        chosen = {"lang": "en", "draft_token": made.draft_token()}
        location = pupil.post(location, data=chosen).headers["Location"]
    made.first_page = location.split("/q/")[1].split("?")[0]
    return made


# --- snapshots -------------------------------------------------------------------------


@pytest.fixture
def engine(db_url: str) -> Any:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


Snapshot = dict[str, list[tuple[str, ...]]]


def _snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, as text, in a stable order."""
    out: Snapshot = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).all()
            out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return out


#: Records of the attempt itself, which a refused request may add (never change): failed
#: sign-in counts for the throttle.
ATTEMPT_RECORDS = (RateEvent.__tablename__,)


def _changes(before: Snapshot, after: Snapshot, *, own_audit_user: int | None) -> list[str]:
    """What changed, except records of the attempt itself (its audit entries, rate events)."""
    changed = []
    for name in before:
        gone = sorted(set(before[name]) - set(after[name]))
        new = sorted(set(after[name]) - set(before[name]))
        if name in ATTEMPT_RECORDS and not gone and own_audit_user is not None:
            new = []
        if name == AuditEntry.__tablename__ and not gone:
            columns = [c.name for c in Base.metadata.tables[name].columns]
            user = columns.index("user_id")
            new = [row for row in new if row[user] != repr(own_audit_user)]
        if gone or new:
            changed.append(f"{name}: {len(gone)} rows changed or removed, {len(new)} added")
    return changed


# --- sending ----------------------------------------------------------------------------


def _basic(email: str) -> dict[str, str]:
    import base64

    token = base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _odk_send(s: Scene, actor: str) -> Any:
    from tests.webapp.test_openrosa import COLLECT_INSTANCE

    xml = COLLECT_INSTANCE.replace("{instance_id}", str(uuid.UUID(int=7)))
    headers = _basic(s.users[actor].email) if actor in s.users else {}
    return s.clients[actor].post(
        "/openrosa/submission",
        data={"xml_submission_file": (io.BytesIO(xml.encode()), "submission.xml")},
        headers={**headers, "X-OpenRosa-Version": "1.0"},
        content_type="multipart/form-data",
    )


def _send(s: Scene, actor: str, request: Request) -> Any:
    client = s.clients[actor]
    if request.json is not None:
        return client.post(request.url, json=request.json, headers=request.headers)
    return client.post(request.url, data=dict(request.form), headers=request.headers)


def _request(s: Scene, endpoint: str, write: Write, *, owner: bool = True) -> Request:
    url = write.url(s) if write.url else s.default_url(endpoint)
    body = write.body(s)
    if not owner:
        body = {k: v for k, v in body.items() if k not in write.credential}
    if write.json:
        return Request(url, json=body)
    return Request(url, body)


def _refused(reply: Any, allowed: tuple[int, ...]) -> bool:
    if reply.status_code in (401, 403, 404, *allowed):
        return True
    if reply.status_code in (302, 303):
        location = reply.headers.get("Location", "")
        return "/login" in location or "/resume" in location
    return False


@pytest.mark.parametrize(("endpoint", "method"), sorted(WRITES))
def test_only_the_owner_of_an_object_can_change_it(
    app: Any, scene: Scene, engine: Engine, endpoint: str, method: str
) -> None:
    if endpoint not in app.view_functions:
        pytest.skip(f"{endpoint} is not installed")
    write = WRITES[(endpoint, method)]
    scene.session.rollback()  # end the fixture's read: the setup writes
    write.setup(scene)
    wrong = []

    def attempt(actor: str, send: Callable[[], Any], allowed: tuple[int, ...], what: str) -> None:
        before = _snapshot(engine)
        reply = send()
        reply.close()
        user = scene.users.get(actor)
        changes = _changes(before, _snapshot(engine), own_audit_user=user.id if user else None)
        if not _refused(reply, allowed):
            wrong.append(
                f"{actor}: {what} -> {reply.status_code} {reply.headers.get('Location', '')}"
            )
        if changes:
            wrong.append(f"{actor}: {what} changed rows: {changes}")

    for actor in ACTORS:
        if actor in write.allowed:
            continue
        if endpoint == "openrosa.submission":
            attempt(actor, lambda a=actor: _odk_send(scene, a), write.shown, f"{method} {endpoint}")
            continue
        # each actor sends the request the owner would (fresh, as the body may use the scene)
        request = _request(scene, endpoint, write, owner=False)
        attempt(
            actor,
            lambda a=actor, r=request: _send(scene, a, r),
            write.shown,
            f"{method} {request.url}",
        )
    for actor, request in write.foreign(scene):
        attempt(
            actor,
            lambda a=actor, r=request: _send(scene, a, r),
            request.shown,
            f"{method} {request.url} naming another community's objects",
        )
    assert wrong == [], "\n".join(wrong)

    owner = write.allowed[0]
    before = _snapshot(engine)
    if endpoint == "openrosa.submission":
        reply = _odk_send(scene, owner)
    else:
        reply = _send(scene, owner, _request(scene, endpoint, write))
    assert reply.status_code < 400, (owner, reply.status_code, reply.get_data(as_text=True)[:500])
    changed = _changes(before, _snapshot(engine), own_audit_user=None)
    if write.live:
        assert changed, f"{owner}'s request changed nothing: the case does not exercise {endpoint}"

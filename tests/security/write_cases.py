"""The cases of the write matrix (tests/security/test_write_authorization.py).

One :class:`Write` per state-changing route: the actors who may make the change and a
request that makes it; ``NO_OBJECT`` names the routes that touch no stored object.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import url_for

from surveys.models import Site, User, Wave
from surveys.models.field import Theme
from tests.security.conftest import World

STAFF_ACTORS = ("admin", "staff_own", "staff_other", "researcher", "coder")
OTHER_COMMUNITY = ("admin2", "staff2", "researcher2", "coder2")
ACTORS = ("anonymous", *STAFF_ACTORS, *OTHER_COMMUNITY, "pupil")


@dataclass
class Scene:
    """The security ``World`` (community 1), community 2, and a client per actor."""

    world: World
    app: Any
    clients: dict[str, Any]
    users: dict[str, User]
    wave2: Wave
    area2: Site
    theme2: Theme
    rid: str
    first_page: str
    version_ids: dict[str, int]
    session: Any = None
    #: What a case's ``setup`` made (a run, a previewed upload's token, a panel).
    state: dict[str, Any] = field(default_factory=dict)

    def url(self, endpoint: str, **values: Any) -> str:
        with self.app.test_request_context():
            return str(url_for(endpoint, **values))

    def default_url(self, endpoint: str) -> str:
        rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
        params = {**self.world.params(), "rid": self.rid, "key": self.first_page}
        return self.url(endpoint, **{a: params[a] for a in rule.arguments})

    def draft_token(self) -> str:
        from webapp.take.flow import draft_token

        with self.app.test_request_context():
            return draft_token(self.rid)


@dataclass(frozen=True)
class Request:
    """What one request sends: a form (with files), or JSON, or an OpenRosa upload."""

    url: str
    form: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Statuses besides the refusals that count as refused here (a form re-shown with
    #: its error names a foreign object in a body field, e.g. 200 or 422).
    shown: tuple[int, ...] = ()


Build = Callable[[Scene], dict[str, Any]]


@dataclass(frozen=True)
class Write:
    """One state-changing route: who may make the change, and a request that makes it."""

    allowed: tuple[str, ...]
    body: Build = lambda s: {}
    url: Callable[[Scene], str] | None = None
    json: bool = False
    #: (actor, request) pairs naming another community's objects in the body.
    foreign: Callable[[Scene], list[tuple[str, Request]]] = lambda s: []
    #: False for a POST that only moves the browser on (nothing is stored for anyone).
    live: bool = True
    #: Statuses the refused actors may get besides 401/403/404 and the sign-in/resume redirect.
    shown: tuple[int, ...] = ()
    #: Form fields only the owner has (a draft's form token): left out for everyone else.
    credential: tuple[str, ...] = ()
    #: Builds the state the owner's request needs (in ``Scene.state``) before anyone sends.
    setup: Callable[[Scene], None] = lambda s: None


def _file(data: Any, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(json.dumps(data).encode()), name


def _interview(s: Scene, researcher: str = "researcher") -> dict[str, Any]:
    return {
        "id": "00000000-0000-4000-8000-00000000000a",
        "researcher_id": s.users[researcher].id,
        "wave_id": s.world.wave.id,
        "site_id": s.world.area.id,
        "instrument_id": "peer_interview",
        "answers": {"consent": "no"},
    }


def _boundary(s: Scene) -> dict[str, Any]:
    ring = [[-0.07, 51.54], [-0.06, 51.54], [-0.06, 51.55], [-0.07, 51.55], [-0.07, 51.54]]
    feature = {
        "type": "Feature",
        "properties": {"site_id": s.world.area.code, "name": s.world.area.name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    return {"type": "FeatureCollection", "features": [feature]}


def _upload(s: Scene) -> dict[str, Any]:
    document = {"format": "placevoice-field-export", "interviews": [_interview(s)]}
    return {"file": _file(document, "unsent.json")}


def _answer_url(endpoint: str) -> Callable[[Scene], str]:
    def url(s: Scene) -> str:
        return s.url(endpoint, response_id=s.world.interview.id, item="good_for_children")

    return url


def _foreign_theme(endpoint: str, body: Build) -> Callable[[Scene], list[tuple[str, Request]]]:
    """The coder of community 1 naming community 2's theme on community 1's answer."""

    def build(s: Scene) -> list[tuple[str, Request]]:
        form = {**body(s), "themes": s.theme2.id, "theme": s.theme2.id}
        return [("coder", Request(_answer_url(endpoint)(s), form, shown=(200,)))]

    return build


def _pack_run(s: Scene, status: str) -> None:
    """A run of the wave: queued (cancellable) or done with a failed pack (retriable)."""
    from surveys.models import utcnow
    from surveys.models.packs import PackRun, PackRunItem

    wave_id = s.world.wave.id
    run = PackRun(
        wave_id=wave_id,
        status=status,
        active_wave_id=wave_id if status == "queued" else None,
        total=1,
        done=1 if status == "done" else 0,
        failed_sites=[{"site": s.world.school_a.code, "error": "OSError"}]
        if status == "done"
        else [],
        created_at=utcnow(),
        finished_at=utcnow() if status == "done" else None,
    )
    s.session.add(run)
    s.session.flush()
    item = "failed" if status == "done" else "queued"
    s.session.add(PackRunItem(run_id=run.id, site=s.world.school_a.code, status=item))
    s.session.commit()


def _panel(s: Scene) -> None:
    """Two waves of community 1 whose pupils answered the identification-code questions."""
    from tests.panel_data import build_panel

    panel = build_panel(s.session, s.world.wave.community, schools=(("P1", 6),))
    s.state.update(current=panel.current.id, previous=panel.previous.id)


def _submitted_response(s: Scene) -> None:
    """A submitted pupil response in each community (a pupil who used the wrong code)."""
    from surveys.models import Response, SchoolClass

    for key, wave, site, cls in (
        ("response", s.world.wave, s.world.school_a, s.world.class_a),
        ("response2", s.wave2, None, None),
    ):
        if site is None:
            site = s.session.get(Site, s.users["staff2"].sites[0].site_id)
            cls = SchoolClass(site_id=site.id, name="7A", year_group=7)
            s.session.add(cls)
            s.session.flush()
            s.state["class2"] = cls.id
        response = Response(
            wave_id=wave.id,
            site_id=site.id,
            class_id=cls.id,
            instrument_version_id=s.world.code_a.instrument_version_id,
            channel="class",
            status="submitted",
            answers={"year_group": "year6"},
        )
        s.session.add(response)
        s.session.flush()
        s.state[key] = response.id
    s.session.commit()


def _import_schools(s: Scene) -> None:
    from tests.fixtures import exports

    for code, name in exports.SCHOOLS.items():
        s.session.add(
            Site(community_id=s.world.wave.community_id, code=code, name=name, kind="school")
        )
    s.session.commit()


def _import_body(s: Scene) -> dict[str, Any]:
    from tests.fixtures import exports

    data = exports.kobo_csv(exports.pupils(count=4))
    return {"file": (io.BytesIO(data), "kobo.csv"), "instrument": "pupil_perception"}


def _previewed(s: Scene) -> None:
    """The owner's upload, previewed and waiting for confirmation."""
    _import_schools(s)
    url = s.url("admin.import_responses_page", wave_id=s.world.wave.id)
    page = s.clients["admin"].post(url, data=_import_body(s)).get_data(as_text=True)
    token = re.search(r'name="token"[^>]* value="([^"]+)"', page)
    assert token, "the preview keeps the file for confirmation"
    s.state["token"] = token.group(1)


ADMIN = ("admin",)
CODERS = ("coder", "admin")

#: Every state-changing (endpoint, method) that names stored objects.
WRITES: dict[tuple[str, str], Write] = {
    # --- core team administration
    ("admin.waves", "POST"): Write(
        ("admin", "admin2"),  # a wave is created in the actor's own community
        body=lambda s: {"name": "Autumn 2027", "instruments": "pupil_perception"},
        foreign=lambda s: [
            (
                "admin2",
                Request(
                    "/admin/waves",
                    {
                        "name": "Autumn 2027",
                        "instruments": "pupil_perception",
                        "previous": s.world.wave.name,
                    },
                    shown=(200,),
                ),
            ),
            (
                "admin2",
                Request(
                    "/admin/waves",
                    {"name": "Autumn 2027", "instruments": "local_form"},  # community 1's own
                    shown=(200,),
                ),
            ),
        ],
    ),
    ("admin.wave_status", "POST"): Write(ADMIN, body=lambda s: {"status": "closed"}),
    ("admin.sites", "POST"): Write(
        ("admin", "admin2"),  # names no stored object: the site is made in one's own community
        body=lambda s: {"site-code": "SZ", "site-name": "Zed School", "site-kind": "school"},
    ),
    ("admin.site", "POST"): Write(
        ADMIN, body=lambda s: {"name": "6Z", "year_group": "6", "size": "20"}
    ),
    ("admin.class_pin", "POST"): Write(ADMIN, body=lambda s: {"pin": "4321"}),
    ("admin.codes", "POST"): Write(
        ADMIN,
        body=lambda s: {
            "site": str(s.world.school_a.id),
            "instrument": str(s.version_ids["pupil_perception"]),
            "kind": "token",
            "count": "1",
        },
        foreign=lambda s: [
            (
                "admin2",
                Request(
                    s.url("admin.codes", wave_id=s.wave2.id),
                    {
                        "site": str(s.world.school_a.id),
                        "instrument": str(s.version_ids["pupil_perception"]),
                        "kind": "token",
                        "count": "1",
                    },
                    shown=(200,),
                ),
            )
        ],
    ),
    ("admin.revoke", "POST"): Write(ADMIN),
    ("admin.retire_site", "POST"): Write(ADMIN),
    ("admin.retire_class", "POST"): Write(ADMIN),
    ("admin.retire_wave", "POST"): Write(ADMIN),
    ("admin.boundaries", "POST"): Write(
        ADMIN,
        body=lambda s: {"geo-file": _file(_boundary(s), "areas.geojson")},
        # another community's admin naming community 1's area: "no such area", nothing stored
        shown=(200,),
    ),
    # --- peer research
    ("field.assignments", "POST"): Write(
        ADMIN,
        shown=(200,),  # the form is shown again: the researcher, wave or area is not one's own
        body=lambda s: {
            "assign-user_id": s.users["researcher"].id,
            "assign-wave_id": s.world.wave.id,
            "assign-site_id": s.world.area.id,
            "assign-instrument_id": "resident_baseline",
        },
        foreign=lambda s: [
            (
                "admin2",
                Request(
                    "/field/assignments",
                    {
                        "assign-user_id": s.users["researcher"].id,
                        "assign-wave_id": s.world.wave.id,
                        "assign-site_id": s.world.area.id,
                        "assign-instrument_id": "resident_baseline",
                    },
                    shown=(200, 400),
                ),
            )
        ],
    ),
    ("field.remove_assignment", "POST"): Write(ADMIN),
    ("field.review", "POST"): Write(ADMIN, body=lambda s: {"action": "flag", "note": "check"}),
    ("field.upload", "POST"): Write(
        ADMIN,
        body=_upload,
        # another community's admin uploading community 1's interviews: each is refused
        # ("unknown researcher") and reported on the page; nothing is stored
        shown=(200,),
    ),
    ("field.api_interviews", "POST"): Write(
        ("researcher",),
        json=True,
        body=_interview,
        url=lambda s: "/field/api/interviews",
        foreign=lambda s: [
            (
                "researcher2",
                Request("/field/api/interviews", json=_interview(s, "researcher2")),
            )
        ],
    ),
    # --- participatory coding
    ("coding.themes", "POST"): Write(
        ("coder", "admin", "coder2", "admin2"),  # a theme is added to one's own codebook
        body=lambda s: {"name": "Bus stops"},
    ),
    ("coding.edit_theme", "POST"): Write(CODERS, body=lambda s: {"description": "Changed"}),
    ("coding.answer", "POST"): Write(
        CODERS,
        url=_answer_url("coding.answer"),
        body=lambda s: {"action": "span", "theme": s.world.theme.id, "excerpt": "youth club"},
        foreign=_foreign_theme(
            "coding.answer", lambda s: {"action": "span", "excerpt": "youth club"}
        ),
    ),
    ("coding.remove_code", "POST"): Write(("coder",)),  # only one's own codes
    ("coding.reconcile", "POST"): Write(
        CODERS,
        url=_answer_url("coding.reconcile"),
        body=lambda s: {"themes": s.world.theme.id},
        foreign=_foreign_theme("coding.reconcile", lambda s: {}),
    ),
    ("coding.quote", "POST"): Write(
        CODERS,
        url=_answer_url("coding.quote"),
        body=lambda s: {
            "action": "approve",
            "excerpt": "the youth club",
            "redacted": "the youth club",
            "theme": s.world.theme.id,
            "checked": "1",
        },
        foreign=_foreign_theme(
            "coding.quote",
            lambda s: {
                "action": "approve",
                "excerpt": "the youth club",
                "redacted": "the youth club",
                "checked": "1",
            },
        ),
    ),
    # --- results
    ("results.generate", "POST"): Write(ADMIN),
    ("results.cancel", "POST"): Write(ADMIN, setup=lambda s: _pack_run(s, "queued")),
    ("results.retry", "POST"): Write(ADMIN, setup=lambda s: _pack_run(s, "done")),
    ("results.panel_link", "POST"): Write(
        ADMIN,
        setup=_panel,
        url=lambda s: s.url("results.panel_link", wave_id=s.state["current"]),
        body=lambda s: {"previous": s.state["previous"]},
        # community 1's admin naming community 2's wave as the previous one
        foreign=lambda s: [
            (
                "admin",
                Request(
                    s.url("results.panel_link", wave_id=s.state["current"]),
                    {"previous": s.wave2.id},
                ),
            )
        ],
    ),
    # --- corrections
    ("admin.delete_response_page", "POST"): Write(
        ADMIN, body=lambda s: {"reason": "A teacher's test run"}
    ),
    ("admin.move_response_page", "POST"): Write(
        ADMIN,
        url=lambda s: s.url("admin.move_response_page", response_id=s.state["response"]),
        setup=_submitted_response,
        body=lambda s: {"to": str(s.world.class_b.id)},
        # an admin moving its own community's response into the other community's class:
        # the class is not offered, the form is shown again
        foreign=lambda s: [
            (
                "admin2",
                Request(
                    s.url("admin.move_response_page", response_id=s.state["response2"]),
                    {"to": str(s.world.class_b.id)},
                    shown=(200,),
                ),
            ),
            (
                "admin",
                Request(
                    s.url("admin.move_response_page", response_id=s.state["response"]),
                    {"to": str(s.state["class2"])},
                    shown=(200,),
                ),
            ),
        ],
    ),
    ("admin.edit_site_page", "POST"): Write(
        ADMIN, body=lambda s: {"name": "Renamed School", "population": "210"}
    ),
    ("admin.edit_class_page", "POST"): Write(
        ADMIN, body=lambda s: {"name": "6Z", "year_group": "6", "size": "28"}
    ),
    ("admin.edit_wave_page", "POST"): Write(ADMIN, body=lambda s: {"name": "Renamed wave"}),
    # --- partnership survey and imports
    ("admin.organisations", "POST"): Write(
        ("admin", "admin2"),  # organisations are added to one's own community
        body=lambda s: {
            "csv-file": (io.BytesIO(b"code,name,kind\nORG1,Youth Hub,service\n"), "orgs.csv")
        },
    ),
    ("admin.import_responses_page", "POST"): Write(
        ADMIN,
        setup=_import_schools,
        body=_import_body,
        live=False,  # a preview: the file waits outside the database until confirmed
    ),
    ("admin.import_confirm", "POST"): Write(
        ADMIN,
        setup=_previewed,
        body=lambda s: {"token": s.state["token"]},
        # community 2's admin confirming community 1's admin's upload into its own wave
        foreign=lambda s: [
            (
                "admin2",
                Request(
                    s.url("admin.import_confirm", wave_id=s.wave2.id),
                    {"token": s.state["token"]},
                ),
            )
        ],
    ),
    # --- the survey draft: only the browser holding it (or its form token) changes it
    ("take.intro", "POST"): Write(("pupil",), live=False),
    ("take.language", "POST"): Write(
        ("pupil",),
        body=lambda s: {"lang": _other_language(s), "draft_token": s.draft_token()},
        credential=("draft_token",),
    ),
    ("take.question", "POST"): Write(
        ("pupil",), body=lambda s: _first_answer(s), credential=("draft_token",)
    ),
    ("take.submit", "POST"): Write(
        ("pupil",), body=lambda s: {"draft_token": s.draft_token()}, credential=("draft_token",)
    ),
    # --- ODK Collect: Basic auth; the form is stored in the sender's own assignment (a
    # researcher of community 2 submits into community 2's wave and area)
    ("openrosa.submission", "POST"): Write(
        ("researcher", "researcher2"), url=lambda s: "/openrosa/submission"
    ),
}

#: State-changing routes that name no stored object, and why; each is tested elsewhere.
NO_OBJECT: dict[tuple[str, str], str] = {
    ("auth.login", "POST"): "credentials only (tests/security/test_auth.py)",
    ("auth.logout", "POST"): "ends the caller's own session only",
    ("take.start", "POST"): "the class code is the credential (tests/webapp/test_take.py)",
    ("take.resume", "POST"): "code and resume word are the credential (tests/webapp/test_take.py)",
    ("take.teacher", "POST"): "the teacher PIN is the credential (tests/webapp/test_take.py)",
    ("take.teacher_leave", "POST"): "ends the caller's own teacher view only",
    (
        "field.withdraw",
        "POST",
    ): "the receipt code is the credential (tests/security/test_privacy.py)",
}

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def _other_language(s: Scene) -> str:
    from surveys.services import instrument_of

    version = s.world.code_a.instrument_version
    return next(code for code in instrument_of(version).languages if code != "en")


def _first_answer(s: Scene) -> dict[str, Any]:
    page = s.clients["pupil"].get(s.default_url("take.question")).get_data(as_text=True)
    if 'name="code_day"' in page:
        # the pupil survey opens with the identification-code questions (stored as digests)
        code = {"code_carer": "m", "code_day": "7", "code_siblings": "1", "code_street": "H"}
        return {**code, "draft_token": s.draft_token()}
    radio = re.search(r'type="radio"[^>]*name="([^"]+)"[^>]*value="([^"]+)"', page) or re.search(
        r'name="([^"]+)"[^>]*type="radio"[^>]*value="([^"]+)"', page
    )
    assert radio, "the first question page has a choice to answer"
    return {radio.group(1): radio.group(2), "draft_token": s.draft_token()}

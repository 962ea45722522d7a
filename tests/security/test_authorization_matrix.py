"""The authorization matrix: every route x every role, generated from ``app.url_map``.

``RULES`` is the explicit expectation for each (endpoint, method). A route that is added
without a rule here fails :func:`test_every_route_has_a_rule`, so nobody can ship a view
whose access has not been decided. Roles: anonymous, admin, school staff of the object's
own school ("staff_own"), school staff of another school ("staff_other"), researcher,
coder. URL variables are filled with objects of school A (see ``World.params``), so for a
site-scoped route ``staff_other`` must get 404, never the object (ASVS V8.2.1-V8.2.2).

How to read a rule:

* ``roles=None``: public (pupils and residents come in through codes); ``ok`` applies to
  everyone, with ``by_role`` overriding single roles.
* otherwise: anonymous gets ``anon`` (302 to the sign-in page for pages, 401 for JSON);
  a role outside ``roles`` gets 403; a role in ``hidden`` gets 404 (the object is outside
  its scope); the rest get ``ok``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.security.conftest import ROLES, World

#: Statuses a state-changing form may answer with an empty body (re-shown form, redirect).
FORM = (200, 302, 303, 400)

#: Matrix role -> account role.
ACCOUNT_ROLE = {
    "admin": "admin",
    "staff_own": "school_staff",
    "staff_other": "school_staff",
    "researcher": "researcher",
    "coder": "coder",
}


@dataclass(frozen=True)
class Rule:
    """Who may call one (endpoint, method), and what each role gets."""

    roles: tuple[str, ...] | None
    ok: tuple[int, ...] = (200,)
    anon: tuple[int, ...] = (302,)
    hidden: tuple[str, ...] = ()
    by_role: dict[str, tuple[int, ...]] = field(default_factory=dict)
    query: str = ""

    def expected(self, role: str) -> tuple[int, ...]:
        if role in self.by_role:
            return self.by_role[role]
        if self.roles is None:
            return self.ok
        if role == "anonymous":
            return self.anon
        if ACCOUNT_ROLE[role] not in self.roles:
            return (403,)
        if role in self.hidden:
            return (404,)
        return self.ok


PUBLIC = Rule(None)
ADMIN = Rule(("admin",))
ADMIN_FORM = Rule(("admin",), ok=FORM)
CODER = Rule(("coder", "admin"))
CODER_FORM = Rule(("coder", "admin"), ok=FORM)
SIGNED_IN_REDIRECT = dict.fromkeys(ACCOUNT_ROLE, (302,))
JSON_401 = (401,)

RULES: dict[tuple[str, str], Rule] = {
    # front door, health, assets
    ("main.index", "GET"): PUBLIC,
    ("main.health", "GET"): PUBLIC,
    ("static", "GET"): PUBLIC,
    # sign in / out
    ("auth.login", "GET"): Rule(None, by_role=SIGNED_IN_REDIRECT),
    ("auth.login", "POST"): Rule(None, ok=(200,), by_role=SIGNED_IN_REDIRECT),
    ("auth.logout", "POST"): Rule(tuple(set(ACCOUNT_ROLE.values())), ok=(302,)),
    # audit log (read-only)
    ("audit.index", "GET"): ADMIN,
    # core team administration
    ("admin.dashboard", "GET"): ADMIN,
    ("admin.waves", "GET"): ADMIN,
    ("admin.waves", "POST"): ADMIN_FORM,
    ("admin.wave", "GET"): ADMIN,
    ("admin.wave_status", "POST"): ADMIN_FORM,
    ("admin.sites", "GET"): ADMIN,
    ("admin.sites", "POST"): ADMIN_FORM,
    ("admin.site", "GET"): ADMIN,
    ("admin.site", "POST"): ADMIN_FORM,
    ("admin.class_pin", "POST"): ADMIN_FORM,
    ("admin.codes", "GET"): ADMIN,
    ("admin.codes", "POST"): ADMIN_FORM,
    ("admin.sheet", "GET"): ADMIN,
    ("admin.revoke", "POST"): ADMIN_FORM,
    ("admin.import_responses_page", "GET"): ADMIN,
    ("admin.import_responses_page", "POST"): ADMIN,
    ("admin.import_confirm", "POST"): Rule(("admin",), ok=(400,)),
    # corrections: find, delete and move a response; edit and retire sites, classes, waves
    ("admin.find_response", "GET"): ADMIN,
    ("admin.delete_response_page", "GET"): ADMIN,
    ("admin.delete_response_page", "POST"): ADMIN_FORM,
    ("admin.move_response_page", "GET"): ADMIN,
    ("admin.move_response_page", "POST"): ADMIN_FORM,
    ("admin.edit_site_page", "GET"): ADMIN,
    ("admin.edit_site_page", "POST"): ADMIN_FORM,
    ("admin.edit_class_page", "GET"): ADMIN,
    ("admin.edit_class_page", "POST"): ADMIN_FORM,
    ("admin.edit_wave_page", "GET"): ADMIN,
    ("admin.edit_wave_page", "POST"): ADMIN_FORM,
    ("admin.retire_site", "GET"): ADMIN,
    ("admin.retire_site", "POST"): ADMIN_FORM,
    ("admin.retire_class", "GET"): ADMIN,
    ("admin.retire_class", "POST"): ADMIN_FORM,
    ("admin.retire_wave", "GET"): ADMIN,
    ("admin.retire_wave", "POST"): ADMIN_FORM,
    ("admin.organisations", "GET"): ADMIN,
    ("admin.organisations", "POST"): ADMIN_FORM,
    # results API: admins see all; school staff and researchers only their own sites' rows
    # (filtered in the body: test_api_rows_are_limited_to_own_sites)
    ("api.openapi", "GET"): PUBLIC,
    ("api.waves", "GET"): Rule(("admin", "school_staff", "researcher"), anon=JSON_401),
    ("api.summary", "GET"): Rule(("admin", "school_staff", "researcher"), anon=JSON_401),
    # OpenRosa (ODK Collect): HTTP Basic auth only, so a browser session never counts:
    # without credentials everyone gets 401 (test_openrosa_basic_auth_by_role)
    ("openrosa.form_list", "GET"): Rule(None, ok=(401,)),
    ("openrosa.form", "GET"): Rule(None, ok=(401,)),
    ("openrosa.submission", "POST"): Rule(None, ok=(401,)),
    # participatory coding (coders and the core team)
    ("coding.home", "GET"): CODER,
    ("coding.themes", "GET"): CODER,
    ("coding.themes", "POST"): CODER_FORM,
    ("coding.edit_theme", "POST"): CODER_FORM,
    ("coding.next_answer", "GET"): Rule(("coder", "admin"), ok=(200, 302)),
    ("coding.answer", "GET"): CODER,
    ("coding.answer", "POST"): CODER_FORM,
    # one's own codes only: the world's code is the coder's, so the admin gets 404
    ("coding.remove_code", "POST"): Rule(("coder", "admin"), ok=FORM, by_role={"admin": (404,)}),
    ("coding.agreement", "GET"): CODER,
    ("coding.reconcile_list", "GET"): CODER,
    ("coding.reconcile", "GET"): CODER,
    ("coding.reconcile", "POST"): CODER_FORM,
    ("coding.quote", "GET"): CODER,
    ("coding.quote", "POST"): CODER_FORM,
    ("coding.quotes", "GET"): CODER,
    # peer research: researchers see their own interviews only
    ("field.home", "GET"): Rule(("researcher", "admin")),
    ("field.app_shell", "GET"): Rule(("researcher", "admin")),
    ("field.interview", "GET"): Rule(("researcher", "admin"), hidden=("researcher",)),
    ("field.service_worker", "GET"): PUBLIC,
    ("field.manifest", "GET"): PUBLIC,
    ("field.api_session", "GET"): Rule(("researcher", "admin"), anon=JSON_401),
    ("field.api_interviews", "GET"): Rule(("researcher", "admin"), anon=JSON_401),
    ("field.api_interviews", "POST"): Rule(("researcher", "admin"), ok=(400, 403), anon=JSON_401),
    ("field.api_interview", "GET"): Rule(
        ("researcher", "admin"), anon=JSON_401, hidden=("researcher",)
    ),
    ("field.review_list", "GET"): ADMIN,
    ("field.review", "GET"): ADMIN,
    ("field.review", "POST"): ADMIN_FORM,
    ("field.assignments", "GET"): ADMIN,
    ("field.assignments", "POST"): ADMIN_FORM,
    ("field.remove_assignment", "POST"): ADMIN_FORM,
    ("field.upload", "GET"): ADMIN,
    ("field.upload", "POST"): ADMIN_FORM,
    ("field.withdraw", "GET"): PUBLIC,
    ("field.withdraw", "POST"): Rule(None, ok=(200,)),
    # the survey flow (anonymous, through codes; a draft is only open to the browser holding it)
    ("take.start", "GET"): PUBLIC,
    ("take.start", "POST"): Rule(None, ok=(200,)),
    ("take.area_link", "GET"): PUBLIC,
    ("take.resume", "GET"): PUBLIC,
    ("take.resume", "POST"): Rule(None, ok=(200,)),
    ("take.carry_on", "GET"): Rule(None, ok=(302,)),
    ("take.intro", "GET"): Rule(None, ok=(302,)),
    ("take.intro", "POST"): Rule(None, ok=(302,)),
    ("take.language", "GET"): Rule(None, ok=(302,)),
    ("take.language", "POST"): Rule(None, ok=(302,)),
    ("take.question", "GET"): Rule(None, ok=(302,)),
    ("take.question", "POST"): Rule(None, ok=(302,)),
    ("take.check_answers", "GET"): Rule(None, ok=(302,)),
    ("take.submit", "POST"): Rule(None, ok=(302,)),
    ("take.done", "GET"): PUBLIC,
    ("take.teacher", "GET"): PUBLIC,
    ("take.teacher", "POST"): Rule(None, ok=(200,)),
    ("take.teacher_live", "GET"): Rule(None, ok=(302,)),
    ("take.teacher_leave", "POST"): Rule(None, ok=(302,)),
    # school staff: their own school's results and pack only (no pack is generated in
    # this world, so the pack is 404 for everyone; staff_other's 404 is the scope rule)
    ("school.home", "GET"): Rule(("school_staff", "admin")),
    ("school.results", "GET"): Rule(("school_staff", "admin"), hidden=("staff_other",)),
    ("school.pack", "GET"): Rule(("school_staff", "admin"), ok=(200, 404), hidden=("staff_other",)),
    # core team results, packs, exports and XLSForm downloads
    ("results.index", "GET"): ADMIN,
    ("results.wave", "GET"): ADMIN,
    # (404 while the wave has too few responses for a summary, as in this world)
    ("results.domain", "GET"): Rule(("admin",), ok=(200, 404)),
    ("results.site", "GET"): Rule(("admin",), ok=(200, 404)),
    ("results.export", "GET"): ADMIN,
    ("results.generate", "POST"): ADMIN_FORM,
    ("results.cancel", "POST"): ADMIN_FORM,
    ("results.retry", "POST"): ADMIN_FORM,
    ("results.pack_run", "GET"): ADMIN,
    ("results.panel", "GET"): ADMIN,
    ("results.panel_link", "POST"): ADMIN_FORM,
    ("results.pack", "GET"): Rule(("admin",), ok=(200, 404)),
    ("results.xlsform", "GET"): ADMIN,
    ("results.xlsform_xlsx", "GET"): ADMIN,
    # the results explorer: admins every site; school staff their own school only (404 for
    # any other). Files are 404 while the wave has too few responses, as in this world;
    # test_explorer.py checks the 200s with enough responses.
    ("explorer.home", "GET"): Rule(("admin", "school_staff")),
    ("explorer.site", "GET"): Rule(("admin", "school_staff"), hidden=("staff_other",)),
    ("explorer.chart", "GET"): Rule(("admin", "school_staff"), ok=(404,), hidden=("staff_other",)),
    ("explorer.table", "GET"): Rule(("admin", "school_staff"), ok=(404,), hidden=("staff_other",)),
    ("explorer.map_svg", "GET"): Rule(
        ("admin", "school_staff"), ok=(404,), hidden=("staff_other",)
    ),
    ("admin.boundaries", "GET"): ADMIN,
    ("admin.boundaries", "POST"): ADMIN_FORM,
    ("results.network", "GET"): ADMIN,
    ("results.network_download", "GET"): Rule(("admin",), ok=(200, 404)),
    ("results.network_pack", "GET"): ADMIN,
    # the teacher's live count for a class: admins, and staff of that class's school only
    ("take.teacher_staff", "GET"): Rule(("admin", "school_staff"), hidden=("staff_other",)),
}


def _routes(app: Any) -> list[tuple[str, str]]:
    pairs = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                pairs.add((rule.endpoint, method))
    return sorted(pairs)


def _url(app: Any, endpoint: str, world: World) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    params = world.params()
    missing = [a for a in rule.arguments if a not in params]
    assert not missing, f"add a value for URL variable(s) {missing} of {rule.rule} to World.params"
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{a: params[a] for a in rule.arguments})


def test_every_route_has_a_rule(app: Any) -> None:
    missing = [pair for pair in _routes(app) if pair not in RULES]
    assert missing == [], (
        "these routes have no authorization rule: add them to RULES in"
        f" tests/security/test_authorization_matrix.py: {missing}"
    )


def test_no_stale_rules(app: Any) -> None:
    """Rules for routes that no longer exist are removed, so the table stays true."""
    stale = sorted(set(RULES) - set(_routes(app)))
    assert stale == [], f"RULES names routes that do not exist: {stale}"


def _call(client: Any, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={})


@pytest.mark.parametrize(("endpoint", "method"), sorted(RULES))
def test_route_answers_each_role_as_its_rule_says(
    app: Any, world: World, client_as: Any, endpoint: str, method: str
) -> None:
    if endpoint not in app.view_functions:
        pytest.skip(f"{endpoint} is not installed")
    rule = RULES[(endpoint, method)]
    url = _url(app, endpoint, world) + rule.query
    wrong = []
    for role in ROLES:
        reply = _call(client_as(role), method, url)
        reply.close()
        expected = rule.expected(role)
        if reply.status_code not in expected:
            wrong.append(f"{role}: {method} {url} -> {reply.status_code}, expected {expected}")
        elif role == "anonymous" and reply.status_code == 302 and rule.roles is not None:
            location = reply.headers.get("Location", "")
            if "/login" not in location:
                wrong.append(f"anonymous: {method} {url} redirected to {location}, not /login")
    assert wrong == [], "\n".join(wrong)


def test_objects_of_another_community_are_404_for_its_admin(
    app: Any, world: World, session: Any, make_user: Any
) -> None:
    """An admin of community 2 gets 404 for community 1's wave and site pages."""
    from surveys.services import create_user, get_or_create_community
    from tests.conftest import PASSWORD

    other = get_or_create_community(session, slug="other", name="Other Community")
    session.flush()
    admin2 = create_user(
        session, community=other, email="admin@other.example", password=PASSWORD, role="admin"
    )
    session.commit()
    client = app.test_client()
    assert (
        client.post("/login", data={"email": admin2.email, "password": PASSWORD}).status_code == 302
    )
    for endpoint in (
        "admin.wave",
        "admin.site",
        "admin.codes",
        "admin.sheet",
        "admin.import_responses_page",
        "take.teacher_staff",
        "admin.delete_response_page",
        "admin.move_response_page",
        "admin.edit_site_page",
        "admin.edit_class_page",
        "admin.edit_wave_page",
        "admin.retire_site",
        "admin.retire_class",
        "admin.retire_wave",
        "explorer.site",
        "results.network",
        "results.network_pack",
    ):
        if endpoint not in app.view_functions:
            continue
        url = _url(app, endpoint, world)
        assert client.get(url).status_code == 404, url
    # ...and every write to them is a 404 that changes nothing
    writes = {
        "admin.delete_response_page": {"reason": "not mine"},
        "admin.move_response_page": {"to": str(world.class_b.id)},
        "admin.edit_site_page": {"name": "Taken over"},
        "admin.edit_class_page": {"name": "Taken", "year_group": "6"},
        "admin.edit_wave_page": {"name": "Taken over"},
        "admin.retire_site": {},
        "admin.retire_class": {},
        "admin.retire_wave": {},
        "admin.class_pin": {"pin": "1234"},
        "admin.revoke": {},
        "admin.wave_status": {"status": "closed"},
    }
    for endpoint, data in writes.items():
        url = _url(app, endpoint, world)
        assert client.post(url, data=data).status_code == 404, url
    from surveys.models import AuditEntry, Response, SchoolClass, Site, Wave

    session.expire_all()
    assert session.get(Response, world.interview.id) is not None
    assert session.get(Site, world.school_a.id).retired_at is None
    assert session.get(Site, world.school_a.id).name != "Taken over"
    assert session.get(SchoolClass, world.class_a.id).retired_at is None
    assert session.get(Wave, world.wave.id).retired_at is None
    assert session.get(Wave, world.wave.id).name != "Taken over"
    assert (
        not session.query(AuditEntry)
        .filter(AuditEntry.user_id == admin2.id)
        .filter(AuditEntry.action != "login")
        .all()
    )


@pytest.mark.parametrize("role", ["admin", "staff_own", "coder", "researcher"])
def test_openrosa_basic_auth_by_role(app: Any, world: World, role: str) -> None:
    """Only researchers get the form list; other roles' valid credentials are refused."""
    import base64

    from tests.conftest import PASSWORD

    if "openrosa.form_list" not in app.view_functions:
        pytest.skip("OpenRosa is not installed")
    token = base64.b64encode(f"{world.users[role].email}:{PASSWORD}".encode()).decode()
    reply = app.test_client().get("/openrosa/formList", headers={"Authorization": f"Basic {token}"})
    assert reply.status_code == (200 if role == "researcher" else 401)


def test_api_rows_are_limited_to_own_sites(app: Any, world: World, client_as: Any) -> None:
    """School staff of school B never receive a row of school A from the results API."""
    if "api.summary" not in app.view_functions:
        pytest.skip("the results API is not installed")
    url = _url(app, "api.summary", world)
    reply = client_as("staff_other").get(url)
    assert reply.status_code == 200
    sites = {row.get("site") for row in reply.get_json().get("rows", [])}
    assert world.school_a.code not in sites

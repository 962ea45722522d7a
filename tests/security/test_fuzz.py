"""Fuzzing: random form posts, JSON payloads and query strings never cause a 500.

The test app runs with TESTING on, so an unhandled exception in a view is raised here
rather than turned into a 500 page: either way the test fails. Hypothesis drives form
posts to every state-changing route (as the core team, and anonymously), JSON to the
field API, query strings to every GET route, and schemathesis drives the results API
from its own OpenAPI description.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import World
from tests.security.test_authorization_matrix import _url

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

#: Text that tends to break things: control characters, huge strings, odd Unicode.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "0",
            "-1",
            "99999999999999999999",
            "1e309",
            "NaN",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%00",
            "\u202e\u0000\ud7ff",
            "x" * 5000,
            "2027-02-30",
            "00000000-0000-0000-0000-000000000000",
        ]
    ),
)


def _field_names(client: Any, url: str) -> list[str]:
    page = client.get(url)
    names = (
        re.findall(r'name="([^"]+)"', page.get_data(as_text=True))
        if page.status_code == 200
        else []
    )
    return sorted(set(names) - {"csrf_token"}) or ["name"]


def _post_routes(app: Any) -> list[str]:
    return sorted(
        r.endpoint
        for r in app.url_map.iter_rules()
        if "POST" in (r.methods or ()) and r.endpoint != "auth.logout"
    )


def _assert_no_server_error(reply: Any, what: str) -> None:
    assert reply.status_code < 500, f"{what} -> {reply.status_code}"


@pytest.mark.parametrize("role", ["admin", "anonymous", "coder"])
def test_random_form_posts_never_500(app: Any, world: World, client_as: Any, role: str) -> None:
    client = client_as(role)
    admin = client_as("admin")
    routes = [(e, _url(app, e, world)) for e in _post_routes(app)]
    fields = {url: _field_names(admin, url) for _e, url in routes}

    @FUZZ
    @given(data=st.data())
    def run(data: Any) -> None:
        _endpoint, url = data.draw(st.sampled_from(routes))
        names = fields[url]
        form = data.draw(
            st.dictionaries(st.sampled_from([*names, "x"]), nasty_text, max_size=len(names) + 1)
        )
        reply = client.post(url, data=form)
        _assert_no_server_error(reply, f"{role} POST {url} {form!r:.200}")

    run()


def test_random_query_strings_never_500(app: Any, world: World, client_as: Any) -> None:
    client = client_as("admin")
    routes = sorted(
        {
            _url(app, r.endpoint, world)
            for r in app.url_map.iter_rules()
            if "GET" in (r.methods or ()) and r.endpoint != "static"
        }
    )
    keys = [
        "page",
        "since",
        "action",
        "level",
        "instrument",
        "show",
        "lang",
        "format",
        "code",
        "next",
        "return",
        "who",
        "wave",
        "site",
    ]

    @FUZZ
    @given(
        url=st.sampled_from(routes),
        query=st.dictionaries(st.sampled_from(keys), nasty_text, max_size=4),
    )
    def run(url: str, query: dict[str, str]) -> None:
        reply = client.get(url, query_string=query)
        reply.close()
        _assert_no_server_error(reply, f"GET {url} {query!r:.200}")

    run()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def test_random_json_to_the_field_api_never_500(app: Any, world: World, client_as: Any) -> None:
    if "field.api_interviews" not in app.view_functions:
        pytest.skip("field API not installed")
    client = client_as("researcher")
    keys = [
        "id",
        "instrument_id",
        "version",
        "wave_id",
        "site_id",
        "answers",
        "language",
        "receipt_code",
        "device_id",
        "saved_at",
        "consent",
    ]

    @FUZZ
    @given(
        payload=st.one_of(
            json_values,
            st.fixed_dictionaries({}, optional=dict.fromkeys(keys, json_values)),
        )
    )
    def run(payload: Any) -> None:
        reply = client.post("/field/api/interviews", json=payload)
        _assert_no_server_error(reply, f"POST /field/api/interviews {payload!r:.200}")
        assert reply.is_json, "the JSON API answers JSON even for bad input"

    run()


@FUZZ
@given(body=st.binary(max_size=300))
def test_malformed_json_bodies_get_a_4xx(
    app: Any, world: World, client_as: Any, body: bytes
) -> None:
    if "field.api_interviews" not in app.view_functions:
        pytest.skip("field API not installed")
    reply = client_as("researcher").post(
        "/field/api/interviews", data=body, content_type="application/json"
    )
    assert 400 <= reply.status_code < 500


@pytest.mark.parametrize("role", ["admin", "staff_other"])
def test_results_api_conforms_to_its_openapi_description(
    app: Any, world: World, client_as: Any, role: str
) -> None:
    """schemathesis: every documented operation, generated inputs, no 500, valid bodies."""
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.specs.openapi.checks import ignored_auth

    if "api.openapi" not in app.view_functions:
        pytest.skip("the results API is not installed")
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    cookie = client_as(role).get_cookie(cookie_name).value
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI description lists operations"
    for operation in operations:

        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            # The session cookie is passed explicitly; the generated (invalid) credential
            # is then not what is being tested, so that one check is left out.
            reply = case.call_and_validate(
                cookies={cookie_name: cookie}, excluded_checks=[ignored_auth]
            )
            assert reply.status_code < 500
            if (
                role == "staff_other"
                and reply.status_code == 200
                and "rows" in (reply.json() or {})
            ):
                assert all(row.get("site") != world.school_a.code for row in reply.json()["rows"])

        run()


#: Ids past SQLite's and PostgreSQL's 64-bit signed integers (no row can have them).
OUT_OF_RANGE_IDS = ("99999999999999999999", str(2**63), "0" * 30 + "1" * 20)
#: The largest 64-bit id: in range, and no such row.
LARGEST_ID = str(2**63 - 1)


def _int_routes(app: Any) -> list[tuple[Any, str]]:
    """(rule, method) for every route with an ``int`` URL variable, from ``app.url_map``."""
    from werkzeug.routing import IntegerConverter

    return sorted(
        (
            (rule, method)
            for rule in app.url_map.iter_rules()
            if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
            for method in rule.methods or ()
            if method not in ("HEAD", "OPTIONS")
        ),
        key=lambda pair: (pair[0].rule, pair[1]),
    )


def test_every_int_url_variable_is_bounded_to_64_bits(app: Any) -> None:
    """One converter for every ``<int:...>``: the 64-bit signed range, so ids fit the DB."""
    from werkzeug.routing import IntegerConverter

    from webapp.routing import MAX_ID, BoundedInt

    routes = _int_routes(app)
    assert len(routes) >= 20, "the app has its numeric-id routes"
    unbounded = [
        f"{rule.rule} <{name}>"
        for rule, _method in routes
        for name, converter in rule._converters.items()
        if isinstance(converter, IntegerConverter)
        and (not isinstance(converter, BoundedInt) or converter.max != MAX_ID)
    ]
    assert unbounded == [], f"int URL variables without the 64-bit bound: {unbounded}"


@pytest.mark.parametrize("role", ["admin", "staff_own", "researcher", "coder", "anonymous"])
def test_out_of_range_ids_are_404_on_every_int_route(
    app: Any, world: World, client_as: Any, role: str
) -> None:
    """Every route with a numeric id: 404 for ids past 64 bits, never a 500 for any id."""
    from werkzeug.routing import IntegerConverter

    client = client_as(role)
    params = world.params()
    wrong = []
    for rule, method in _int_routes(app):
        for bad in (*OUT_OF_RANGE_IDS, LARGEST_ID):
            values = {
                name: (
                    bad
                    if isinstance(rule._converters.get(name), IntegerConverter)
                    else params[name]
                )
                for name in rule.arguments
            }
            url = rule.rule
            for name, value in values.items():
                url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
            reply = client.open(url, method=method, data={})
            reply.close()
            if reply.status_code >= 500 or (bad != LARGEST_ID and reply.status_code != 404):
                wrong.append(f"{method} {url} -> {reply.status_code}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("huge", [10**20, -(10**20), 2**63, "99999999999999999999"])
def test_out_of_range_ids_in_bodies_are_refused_not_500(
    app: Any, world: World, client_as: Any, huge: Any
) -> None:
    """Ids inside JSON bodies and uploaded files get the same 64-bit bound as URLs."""
    import io
    import json

    payload = {
        "id": "00000000-0000-4000-8000-000000000001",
        "wave_id": huge,
        "site_id": huge,
        "instrument_id": "peer_interview",
        "answers": {},
    }
    reply = client_as("researcher").post("/field/api/interviews", json=payload)
    assert 400 <= reply.status_code < 500, reply.status_code
    document = {
        "format": "placevoice-field-export",
        "interviews": [{**payload, "researcher_id": huge}],
    }
    upload = client_as("admin").post(
        "/field/upload",
        data={"file": (io.BytesIO(json.dumps(document).encode()), "unsent.json")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200

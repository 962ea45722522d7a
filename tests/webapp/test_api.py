"""The JSON API: authentication, who sees which rows, errors, the OpenAPI description."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from surveys.importing import import_responses
from surveys.models import Community, Site, User, UserSite, Wave

URL = "/api/waves/Spring 2027/summary"


@pytest.fixture
def data(
    session: Session,
    make_site: Callable[..., Site],
    make_wave: Callable[..., Wave],
) -> dict[str, Any]:
    wave = make_wave()
    sites = [make_site(f"S0{i}", name=f"School {i}") for i in (1, 2, 3, 4)]
    rows = ["site,safe_school"]
    counts = ((48, 12), (25, 25), (3, 2), (15, 15))  # S03 is too small; S04 hides it
    for site, (pos, neg) in zip(sites, counts, strict=True):
        rows += [f"{site.code},very_safe"] * pos + [f"{site.code},not_safe"] * neg
    import_responses(
        session,
        wave=wave,
        instrument_id="pupil_perception",
        data="\n".join(rows).encode(),
        source="p.csv",
    )
    session.commit()
    return {"wave": wave, "sites": sites}


@pytest.fixture
def sign_in(app: Any, client: Any, session: Session, community: Community) -> Callable[..., User]:
    """sign_in(role, sites=()): a session cookie for a new user, without password hashing.

    (Signing in through /login is tested in test_admin_sees_every_site; hashing a password
    with argon2 takes half a second, which every other test here can do without.)
    """
    from flask_login.utils import _create_identifier

    def do(role: str, sites: tuple[Site, ...] = ()) -> User:
        user = User(
            community_id=community.id,
            email=f"{role}-{len(sites)}@example.org",
            password_hash="unused",
            role=role,
        )
        user.sites = [UserSite(site_id=s.id) for s in sites]
        session.add(user)
        session.commit()
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = str(user.id)
            cookie["_fresh"] = True
            cookie["_id"] = identifier
        return user

    return do


def safe_rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["site"]: r for r in body["rows"] if r["item"] == "safe_school"}


def test_login_is_required(client: Any, data: dict[str, Any]) -> None:
    for url in (URL, "/api/waves"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.is_json and response.json["status"] == 401
        assert "rows" not in response.json


@pytest.mark.slow  # signs in through /login: argon2 hashing and checking take about a second
def test_admin_sees_every_site(
    client: Any, login: Callable[[User], Any], make_user: Callable[..., User], data: Any
) -> None:
    login(make_user("admin"))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json
    assert (body["wave"], body["level"], body["instrument"], body["k"]) == (
        "Spring 2027",
        "school",
        "pupil_perception",
        10,
    )
    rows = safe_rows(body)
    assert set(rows) == {"S01", "S02", "S03", "S04", "ALL"}
    assert (rows["S01"]["n"], rows["S01"]["pct_positive"], rows["S01"]["flag"]) == (
        60,
        80.0,
        "higher",
    )
    for hidden in ("S03", "S04"):  # too small, and the one that would reveal it
        row = rows[hidden]
        assert row["suppressed"] is True and row["n"] is None and row["pct_positive"] is None
    assert body["columns"][:3] == ["wave", "site", "site_name"]


def test_school_staff_see_only_their_school(
    client: Any,
    sign_in: Callable[..., User],
    data: dict[str, Any],
) -> None:
    sign_in("school_staff", sites=(data["sites"][1],))
    response = client.get(URL)
    assert response.status_code == 200
    sites = {r["site"] for r in response.json["rows"]}
    assert sites == {"S02", "ALL"}
    mine = safe_rows(response.json)["S02"]
    assert mine["benchmark_n"] == 95 and mine["benchmark_pct"] is not None
    assert b"School 1" not in response.data and b"S01" not in response.data


def test_other_roles_are_forbidden(client: Any, sign_in: Callable[..., User], data: Any) -> None:
    sign_in("coder")
    response = client.get(URL)
    assert response.status_code == 403 and response.json["status"] == 403


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/waves/Nope/summary", 404),
        (URL + "?level=county", 400),
        (URL + "?instrument=nope", 404),
        (URL + "?level=area", 200),
    ],
)
def test_errors_are_json(
    client: Any,
    sign_in: Callable[..., User],
    data: Any,
    url: str,
    status: int,
) -> None:
    sign_in("admin")
    response = client.get(url)
    assert response.status_code == status
    assert response.is_json
    if status != 200:
        assert set(response.json) == {"error", "status"}


def test_area_level(client: Any, sign_in: Callable[..., User], data: Any) -> None:
    sign_in("admin")
    body = client.get(URL + "?level=area").json
    assert body["instrument"] == "resident_baseline"
    assert body["columns"][-3:] == ["weighted_pct", "design_effect", "n_effective"]
    assert body["weighted"] is False and body["notes"]


def test_waves_list(client: Any, sign_in: Callable[..., User], data: Any) -> None:
    sign_in("school_staff")
    assert client.get("/api/waves").json == {
        "waves": [{"name": "Spring 2027", "status": "open", "previous": None}]
    }


def test_openapi_lists_the_endpoints(client: Any) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/openapi.json",
        "/api/waves",
        "/api/waves/{wave}/summary",
    }
    get = spec["paths"]["/api/waves/{wave}/summary"]["get"]
    assert {"200", "400", "401", "403", "404"} <= set(get["responses"])
    row = spec["components"]["schemas"]["SummaryRow"]["properties"]
    assert {"wave", "site", "site_name", "n_effective"} <= set(row)


def test_rows_match_the_openapi_schema(
    client: Any, sign_in: Callable[..., User], data: Any
) -> None:
    spec = client.get("/api/openapi.json").json
    row_schema = spec["components"]["schemas"]["SummaryRow"]
    sign_in("admin")
    for level in ("school", "area"):
        for row in client.get(f"{URL}?level={level}").json["rows"]:
            assert set(row) <= set(row_schema["properties"])
            assert set(row_schema["required"]) <= set(row)
            for name, value in row.items():
                prop = row_schema["properties"][name]
                if value is None:
                    assert prop.get("nullable"), name
                    continue
                kind = {"integer": int, "number": (int, float), "string": str, "boolean": bool}
                assert isinstance(value, kind[prop["type"]]), (name, value)


def test_openapi_and_challenge_name_the_real_session_cookie(client) -> None:  # type: ignore[no-untyped-def]
    schemes = client.get("/api/openapi.json").get_json()["components"]["securitySchemes"]
    assert schemes["sessionCookie"]["name"] == "placevoice"
    challenge = client.get("/api/waves").headers["WWW-Authenticate"]
    assert 'cookie-name="placevoice"' in challenge

"""Redirect targets a user supplies (``next``, ``back``) are followed only within the site.

Every such target goes through ``webapp.redirects.safe_target``: a relative path on this
site, never another host (``//evil``, ``/\\evil``, ``https://evil``), a scheme
(``javascript:``) or a header break (CR/LF). Anything else falls back to the view's own
page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import World
from webapp.redirects import safe_target

HOSTILE = [
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\\/evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    "  //evil.example/",
    "\t/\\evil.example",
    "/ok\r\nSet-Cookie: x=1",
    "/ok\nLocation: https://evil.example/",
    "/ok%0d%0aSet-Cookie:x=1\r",
    "evil.example",
    "/\x00//evil.example",
    "x" * 3000,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target: str) -> None:
    assert safe_target(target) is None


@pytest.mark.parametrize(
    "target", ["/coding/", "/coding/answer/abc/item?x=1#top", "/admin/waves/3", "/s/abc/q/p1"]
)
def test_same_site_paths_are_kept(target: str) -> None:
    assert safe_target(target) == target


def test_a_target_outside_the_required_prefix_is_refused() -> None:
    assert safe_target("/s/abc/q/p1", within="/s/abc/") == "/s/abc/q/p1"
    assert safe_target("/s/other/q/p1", within="/s/abc/") is None
    assert safe_target("/admin/", within="/s/abc/") is None


def _location(reply: Any) -> str:
    assert reply.status_code in (302, 303), reply.status_code
    return str(reply.headers["Location"])


def _same_site(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//") and "\\" not in location


@pytest.mark.parametrize("target", HOSTILE)
def test_coding_back_fields_stay_on_the_site(
    app: Any, world: World, client_as: Any, target: str
) -> None:
    coder = client_as("coder")
    added = coder.post("/coding/themes", data={"name": f"Theme {len(target)}", "back": target})
    assert _same_site(_location(added))
    removed = coder.post(f"/coding/codes/{world.coding.id}/remove", data={"back": target})
    assert _same_site(_location(removed))


def test_coding_back_fields_are_followed_within_the_site(
    app: Any, world: World, client_as: Any
) -> None:
    coder = client_as("coder")
    added = coder.post("/coding/themes", data={"name": "Parks", "back": "/coding/quotes"})
    assert _location(added) == "/coding/quotes"


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_next_stays_on_the_site(app: Any, world: World, target: str) -> None:
    from tests.conftest import PASSWORD

    reply = app.test_client().post(
        "/login",
        query_string={"next": target},
        data={"email": world.users["admin"].email, "password": PASSWORD},
    )
    assert _same_site(_location(reply))


def test_every_user_supplied_target_goes_through_safe_target() -> None:
    """No view follows ``next``/``back``/``return_to`` without the one helper."""
    root = Path(__file__).resolve().parents[2] / "webapp"
    pattern = re.compile(
        r"request\.(?:args|form|values)\.get\(\s*[\"'](?:next|back|return_to)[\"']"
    )
    unchecked = []
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and "safe_target(" not in line:
                unchecked.append(f"{path.relative_to(root.parent)}:{number}: {line.strip()}")
            if re.search(r"redirect\(\s*request\.", line):
                unchecked.append(f"{path.relative_to(root.parent)}:{number}: {line.strip()}")
    assert unchecked == [], "\n".join(unchecked)

"""`placevoice users create` and `placevoice users list`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Community, Site, User
from surveys.services import verify_password

RunCli = Callable[..., Result]
PASSWORD = "a long enough password"


@pytest.fixture
def sites(make_site: Callable[..., Site]) -> dict[str, Site]:
    return {
        "S01": make_site("S01", name="Brook Lane Primary"),
        "S02": make_site("S02", name="Hollins Academy"),
        "A01": make_site("A01", kind="area", name="Riverside North", postcodes="RV1 1"),
    }


def _user(session: Session, email: str) -> User | None:
    session.expire_all()
    return session.scalar(select(User).where(User.email == email))


@pytest.mark.slow  # two argon2 operations and an app
def test_create_with_password_on_stdin_and_sign_in(
    run_cli: RunCli, session: Session, sites: dict[str, Site], client: Any
) -> None:
    result = run_cli(
        "users",
        "create",
        "Head@Brook.example",
        "--role",
        "school_staff",
        "--site",
        "S01",
        "--name",
        "Ms Head",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "account created: head@brook.example (school_staff) for Brook Lane Primary" in (
        result.output
    )
    assert PASSWORD not in result.output
    user = _user(session, "head@brook.example")
    assert user is not None and user.display_name == "Ms Head"
    assert user.site_ids == {sites["S01"].id}
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user, PASSWORD)
    response = client.post("/login", data={"email": "head@brook.example", "password": PASSWORD})
    assert response.status_code in (302, 303)


def test_create_asks_twice_at_a_hidden_prompt(
    run_cli: RunCli, session: Session, community: Community
) -> None:
    result = run_cli(
        "users", "create", "admin@cc.example", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    user = _user(session, "admin@cc.example")
    assert user is not None and user.role == "admin" and verify_password(user, PASSWORD)


def test_a_mismatched_confirmation_is_asked_again(
    run_cli: RunCli, session: Session, community: Community
) -> None:
    result = run_cli(
        "users",
        "create",
        "coder@cc.example",
        "--role",
        "coder",
        input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    user = _user(session, "coder@cc.example")
    assert user is not None and verify_password(user, PASSWORD)


def test_researcher_bound_to_two_areas_and_listed(
    run_cli: RunCli, session: Session, sites: dict[str, Site], make_site: Callable[..., Site]
) -> None:
    make_site("A02", kind="area", name="Canal Quarter")
    result = run_cli(
        "users",
        "create",
        "peer@cc.example",
        "--role",
        "researcher",
        "--site",
        "A01",
        "--site",
        "A02",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    listing = run_cli("users", "list")
    assert listing.exit_code == 0
    assert "peer@cc.example\tresearcher\tactive\tA01 A02\t" in listing.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--role", "admin"), "short\n", "at least 10 characters"),
        (("--role", "school_staff"), PASSWORD, "school staff need --site"),
        (("--role", "school_staff", "--site", "S99"), PASSWORD, "there is no site 'S99'"),
        (("--role", "school_staff", "--site", "A01"), PASSWORD, "is an area"),
        (("--role", "admin", "--site", "S01"), PASSWORD, "--site is only for"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_message(
    run_cli: RunCli,
    session: Session,
    sites: dict[str, Site],
    args: tuple[str, ...],
    stdin: str,
    message: str,
) -> None:
    result = run_cli(
        "users", "create", "x@cc.example", *args, "--password-stdin", input=stdin + "\n"
    )
    assert result.exit_code == 1
    assert message in result.output
    assert _user(session, "x@cc.example") is None


def test_an_email_that_is_taken_or_not_an_email_is_refused(
    run_cli: RunCli, community: Community
) -> None:
    first = run_cli(
        "users", "create", "a@cc.example", "--role", "coder", "--password-stdin", input=PASSWORD
    )
    assert first.exit_code == 0, first.output
    again = run_cli(
        "users", "create", "A@cc.example", "--role", "coder", "--password-stdin", input=PASSWORD
    )
    assert again.exit_code == 1
    assert "there is already an account for a@cc.example" in again.output
    bad = run_cli("users", "create", "nobody", "--role", "coder", "--password-stdin")
    assert bad.exit_code == 1 and "not an email address" in bad.output


def test_an_unknown_role_is_refused_by_the_option(run_cli: RunCli, community: Community) -> None:
    result = run_cli("users", "create", "a@cc.example", "--role", "boss", "--password-stdin")
    assert result.exit_code == 2
    assert "'boss' is not one of" in result.output


def test_users_need_a_community_first(run_cli: RunCli) -> None:
    result = run_cli("users", "create", "a@cc.example", "--role", "admin", "--password-stdin")
    assert result.exit_code == 1
    assert "there is no community yet" in result.output


def test_list_on_a_database_without_accounts(run_cli: RunCli, community: Community) -> None:
    result = run_cli("users", "list")
    assert result.exit_code == 0
    assert "no accounts yet" in result.output

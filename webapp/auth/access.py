"""Authorization helpers every view uses: who may call a view, and which objects they see.

Two rules (ASVS V8.2.1-V8.2.2):

* ``@roles_required("admin", "school_staff")`` guards a view by role. Not signed in: a
  page redirects to the sign-in page, a JSON endpoint (``/api/``, ``/openrosa/`` or a
  request that asks for JSON) answers 401. Signed in with another role: 403.
* ``site_visible(site_id)`` / ``require_site(site_id)`` decide whether the signed-in user
  may see one school's or area's objects. Outside the user's scope the answer is **404**,
  never 403, so staff of school A cannot even learn that an id of school B exists.

Scope: ``admin`` sees every site of their own community; ``school_staff`` and
``researcher`` see only the sites they are bound to (``User.site_ids``); ``coder`` sees no
site's raw objects. Objects of another community are never visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, jsonify, redirect, request, url_for
from flask_login import current_user

from surveys.models import Wave
from webapp.database import db_session

__all__ = [
    "community_wave",
    "is_json_request",
    "require_site",
    "roles_required",
    "site_visible",
    "visible_site_ids",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Roles that see every site of their community.
SEE_ALL_SITES = frozenset({"admin"})
#: Roles that see only the sites they are bound to.
SEE_BOUND_SITES = frozenset({"school_staff", "researcher"})


def is_json_request() -> bool:
    """Whether the caller is a program (API, OpenRosa, or asks for JSON), not a browser."""
    if request.path.startswith(("/api/", "/openrosa/")) or request.path.endswith(".json"):
        return True
    return request.accept_mimetypes.best == "application/json"


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only signed-in users with one of ``roles`` (401/redirect, then 403)."""
    if not roles:
        raise ValueError("roles_required needs at least one role")
    allowed = frozenset(roles)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if is_json_request():
                    return jsonify(error="sign in first", status=401), 401
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def _user_site_scope(user: Any) -> tuple[str, frozenset[int]]:
    role = str(getattr(user, "role", ""))
    return role, frozenset(getattr(user, "site_ids", ()) or ())


def site_visible(
    site_id: int | None,
    *,
    site_community_id: int | None = None,
    user: Any = None,
) -> bool:
    """Whether ``user`` (default: the signed-in user) may see objects of ``site_id``.

    Pass ``site_community_id`` (the site's community) when you have it: an admin of one
    community never sees another community's sites. ``site_id`` None (an object bound to
    no site, e.g. a community-wide export) is visible to admins only.
    """
    user = current_user if user is None else user
    if not getattr(user, "is_authenticated", False):
        return False
    if site_community_id is not None and site_community_id != getattr(user, "community_id", None):
        return False
    role, bound = _user_site_scope(user)
    if role in SEE_ALL_SITES:
        return True
    if site_id is None:
        return False
    return role in SEE_BOUND_SITES and int(site_id) in bound


def require_site(site_id: int | None, *, site_community_id: int | None = None) -> None:
    """Abort with 404 unless the signed-in user may see objects of ``site_id``."""
    if not site_visible(site_id, site_community_id=site_community_id):
        abort(404)


def community_wave(wave_id: int) -> Wave:
    """The wave ``wave_id`` of the signed-in user's community; 404 for any other."""
    wave = db_session().get(Wave, wave_id)
    if wave is None or wave.community_id != current_user.community_id:
        abort(404)
    return wave


def visible_site_ids(all_site_ids: Iterable[int], user: Any = None) -> list[int]:
    """The subset of ``all_site_ids`` (one community's) the user may see, in order."""
    user = current_user if user is None else user
    return [sid for sid in all_site_ids if site_visible(sid, user=user)]

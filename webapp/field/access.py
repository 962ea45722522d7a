"""Role checks shared by the field, coding and OpenRosa views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, jsonify, request
from flask_login import current_user

__all__ = ["api_roles", "roles"]

F = TypeVar("F", bound=Callable[..., Any])


def roles(*allowed: str) -> Callable[[F], F]:
    """Pages: sign-in first, then 403 for other roles."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from flask import redirect, url_for

                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def api_roles(*allowed: str) -> Callable[[F], F]:
    """JSON endpoints: 401 when not signed in (never a redirect), 403 for other roles."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return jsonify(error="sign in again", status=401), 401
            if current_user.role not in allowed:
                return jsonify(error="not allowed", status=403), 403
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate

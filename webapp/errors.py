"""Error pages: a clear message, never a stack trace, never a 500 for bad input."""

from __future__ import annotations

from flask import Flask, render_template, request
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

__all__ = ["register_error_handlers"]

_MESSAGES = {
    400: "Something in the request was not right. Go back and try again.",
    403: "You do not have permission to see this page.",
    404: "We could not find that page. Check the address, or go back to the start.",
    405: "That action is not allowed here.",
    413: "The upload is too large. Files can be at most {limit} MB.",
    429: "Too many attempts. Wait a few minutes and try again.",
    500: "Something went wrong on our side. Your earlier answers are saved; try again.",
    503: "The service is busy. Wait a moment and try again; nothing you sent was lost.",
}


def register_error_handlers(app: Flask) -> None:
    """Render every HTTP error with the site's page (or JSON for API clients)."""

    @app.errorhandler(HTTPException)  # type: ignore[type-var]
    def _http_error(error: HTTPException) -> tuple[object, int]:
        code = error.code or 500
        limit = (app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        message = _MESSAGES.get(code, error.description or "Error").format(limit=limit)
        if request.path.startswith(("/api/", "/openrosa/")) or request.accept_mimetypes.best == (
            "application/json"
        ):
            return {"error": message, "status": code}, code
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(OperationalError)  # type: ignore[type-var]
    def _database_unavailable(_error: OperationalError) -> tuple[object, int, dict[str, str]]:
        # The database is briefly unavailable (locked, restarting, connection lost): the
        # request's transaction was rolled back, so nothing was half-stored; retry later.
        from webapp.database import db_session

        try:
            db_session().rollback()
        except Exception:  # noqa: S110 - the connection may already be gone
            pass
        app.logger.warning("database unavailable: %s", type(_error.orig).__name__)
        headers = {"Retry-After": "5"}
        message = _MESSAGES[503]
        if request.path.startswith(("/api/", "/openrosa/")) or request.accept_mimetypes.best == (
            "application/json"
        ):
            return {"error": message, "status": 503, "retry_after": 5}, 503, headers
        try:
            page = render_template("error.html", code=503, message=message)
        except OperationalError:  # the page itself needed the database (signed-in user)
            page = (
                f"<!doctype html><title>Service busy</title><h1>Service busy</h1><p>{message}</p>"
            )
        return page, 503, headers

    @app.errorhandler(DataError)  # type: ignore[type-var]
    def _unstorable_input(_error: DataError) -> tuple[object, int]:
        # Input the database cannot hold (e.g. a NUL character on PostgreSQL): the
        # transaction is rolled back and the user told, rather than a 500.
        from webapp.database import db_session

        db_session().rollback()
        message = (
            "Something you sent contains characters that cannot be stored. Check it and try again."
        )
        if request.path.startswith(("/api/", "/openrosa/")) or request.accept_mimetypes.best == (
            "application/json"
        ):
            return {"error": message, "status": 400}, 400
        return render_template("error.html", code=400, message=message), 400

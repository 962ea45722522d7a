"""Configuration: defaults, then PLACEVOICE_* environment variables, then a mapping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Flask

from surveys.db import database_url

__all__ = ["DEFAULTS", "WeakSecretKey", "configure_app"]

#: Every configuration key, with its default. docs/configuration.md describes each.
DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": "",
    "DATABASE_URL": "",
    "TESTING": False,
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "placevoice",
    "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=8),
    "STAFF_IDLE_MINUTES": 30,
    "SUPPRESSION_K": 10,
    "PACKS_DIR": "",
    "PACK_JOBS": 2,
    "QUEUE_URL": "",
    "FAST_SUBMIT": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "DEFAULT_LANGUAGE": "en",
}

#: Shortest SECRET_KEY accepted outside tests.
MIN_SECRET_LENGTH = 32


class WeakSecretKey(RuntimeError):
    """SECRET_KEY is missing or too short for a real deployment."""


def configure_app(app: Flask, config: Mapping[str, Any] | None = None) -> None:
    """Load configuration and refuse to start with a weak secret outside tests."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PLACEVOICE")
    if config:
        app.config.from_mapping(config)
    app.config["DATABASE_URL"] = database_url(app.config.get("DATABASE_URL") or None)
    secret = str(app.config.get("SECRET_KEY") or "")
    if app.config.get("TESTING"):
        if not secret:
            app.config["SECRET_KEY"] = "test-secret-key-" + "x" * 32
    elif len(secret) < MIN_SECRET_LENGTH:
        raise WeakSecretKey(
            "set PLACEVOICE_SECRET_KEY to a random value of at least"
            f" {MIN_SECRET_LENGTH} characters, e.g. the output of"
            " python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )

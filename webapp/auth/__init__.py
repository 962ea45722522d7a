"""Staff sign-in and sign-out (Flask-Login, argon2id)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from webapp.auth import routes  # noqa: E402,F401 - registers the views

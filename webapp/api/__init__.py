"""The JSON API (``/api``): wave summaries for signed-in staff, and its OpenAPI description."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from webapp.api import routes  # noqa: E402,F401 - registers the views

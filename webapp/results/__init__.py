"""Results in the browser for the core team: summaries, packs, exports and XLSForms."""

from flask import Blueprint

bp = Blueprint("results", __name__)

from webapp.results import network, panel, routes  # noqa: E402,F401 - registers the views

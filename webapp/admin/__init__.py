"""The core team's set-up screens: waves, sites, classes, codes, response rates."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from webapp.admin import organisations, routes  # noqa: E402,F401 - registers the views

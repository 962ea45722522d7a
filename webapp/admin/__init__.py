"""The core team's set-up screens: waves, sites, classes, codes, response rates."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from webapp.admin import (  # noqa: E402,F401 - registers the views
    boundaries,
    corrections,
    imports,
    organisations,
    routes,
)

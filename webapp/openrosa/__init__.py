"""The OpenRosa API, so ODK Collect and KoboCollect can download forms and submit
interviews (HTTP Basic auth per researcher; exempt from form CSRF)."""

from flask import Blueprint

from webapp.extensions import csrf

bp = Blueprint("openrosa", __name__)
csrf.exempt(bp)

from webapp.openrosa import routes  # noqa: E402,F401 - registers the views

"""School staff: their own school's results and feedback pack, and nothing of any other."""

from flask import Blueprint

bp = Blueprint("school", __name__)

from webapp.school import routes  # noqa: E402,F401 - registers the views

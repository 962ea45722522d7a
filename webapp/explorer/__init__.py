"""The results explorer: a site's pack figures by domain and group; charts, maps, downloads."""

from flask import Blueprint

bp = Blueprint("explorer", __name__)

from webapp.explorer import routes  # noqa: E402,F401 - registers the views

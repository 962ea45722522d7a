"""Field mode for peer researchers (an offline-first web app), withdrawal, and the core
team's review of field interviews."""

from flask import Blueprint

bp = Blueprint("field", __name__)

from webapp.field import admin, routes  # noqa: E402,F401 - registers the views

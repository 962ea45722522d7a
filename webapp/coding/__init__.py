"""Participatory thematic coding of open answers: codebook, tagging, double coding with
Cohen's kappa, reconciliation, and quotes cleared after PII screening."""

from flask import Blueprint

bp = Blueprint("coding", __name__)

from webapp.coding import routes  # noqa: E402,F401 - registers the views

"""Coding views."""

from __future__ import annotations

from flask import render_template

from webapp.coding import bp
from webapp.field.access import roles


@bp.get("/")
@roles("coder", "admin")
def home() -> str:
    """The coding overview."""
    return render_template("coding/home.html")

"""The placevoice web app: one factory, blueprints registered in one place.

The only package that imports Flask. Views are thin: they validate a form, call a
``surveys`` service, commit, and redirect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from webapp.config import configure_app
from webapp.database import configure_db
from webapp.routing import register_converters

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``PLACEVOICE_*`` environment variables, then ``config``."""
    app = Flask(__name__, instance_relative_config=False)
    register_converters(app.url_map)
    configure_app(app, config)
    configure_db(app)
    add_extensions(app)
    add_blueprints(app)
    return app


def add_extensions(app: Flask) -> None:
    """Bind extensions with ``init_app``."""
    from webapp.extensions import init_extensions

    init_extensions(app)


def add_blueprints(app: Flask) -> None:
    """Register every blueprint, and the error pages."""
    from webapp.errors import register_error_handlers
    from webapp.main import bp as main_bp

    app.register_blueprint(main_bp)
    for module, prefix in _OPTIONAL_BLUEPRINTS:
        try:
            blueprint = __import__(module, fromlist=["bp"]).bp
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        app.register_blueprint(blueprint, url_prefix=prefix)
    register_error_handlers(app)


#: Feature blueprints, registered when their package is present.
_OPTIONAL_BLUEPRINTS: tuple[tuple[str, str | None], ...] = (
    ("webapp.auth", None),
    ("webapp.take", None),
    ("webapp.admin", "/admin"),
    ("webapp.school", "/school"),
    ("webapp.results", "/results"),
    ("webapp.explorer", "/explore"),
    ("webapp.field", "/field"),
    ("webapp.coding", "/coding"),
    ("webapp.api", "/api"),
    ("webapp.openrosa", "/openrosa"),
    ("webapp.audit", "/audit"),
)

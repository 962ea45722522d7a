"""Taking surveys: pupils with a class code, residents with an area link or a letter token,
and the teacher's live completion count."""

from flask import Blueprint

bp = Blueprint("take", __name__)

from webapp.take import finish, routes, teacher  # noqa: E402,F401 - registers the views


@bp.record_once
def _install_fast_submit(state) -> None:  # type: ignore[no-untyped-def]
    from webapp.take.fast import install

    install(state.app)

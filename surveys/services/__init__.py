"""Services: the operations on the data model, with explicit actors and sessions.

Services never read a web request or session; callers pass what they need and commit.
"""

from surveys.services.codes import format_code, issue_code, normalise_code
from surveys.services.responses import Stored, answers_hash, check_response_id, store_response
from surveys.services.setup import (
    SiteRow,
    create_community,
    create_user,
    create_wave,
    ensure_builtin_instruments,
    get_community,
    get_or_create_community,
    get_wave,
    import_sites,
    instrument_of,
    latest_instrument_version,
    parse_sites_csv,
    register_instrument,
    set_wave_status,
    verify_password,
)

__all__ = [
    "SiteRow",
    "Stored",
    "answers_hash",
    "check_response_id",
    "create_community",
    "create_user",
    "create_wave",
    "ensure_builtin_instruments",
    "format_code",
    "get_community",
    "get_or_create_community",
    "get_wave",
    "import_sites",
    "instrument_of",
    "issue_code",
    "latest_instrument_version",
    "normalise_code",
    "parse_sites_csv",
    "register_instrument",
    "set_wave_status",
    "store_response",
    "verify_password",
]

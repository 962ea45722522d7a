"""The instruments that ship with placevoice, as XLSForm files in ``instruments/builtin``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from instruments.loader import load_instrument
from instruments.model import Instrument

__all__ = ["BUILTIN_DIR", "BUILTIN_IDS", "builtin_path", "load_builtin"]

BUILTIN_DIR = Path(__file__).with_name("builtin")

#: Built-in instrument ids, in the order the product presents them.
BUILTIN_IDS = ("pupil_perception", "resident_baseline", "peer_interview", "partnership")


def builtin_path(instrument_id: str) -> Path:
    """The XLSForm file of a built-in instrument; KeyError for an unknown id."""
    if instrument_id not in BUILTIN_IDS:
        raise KeyError(f"'{instrument_id}' is not a built-in instrument")
    return BUILTIN_DIR / f"{instrument_id}.md"


@cache
def load_builtin(instrument_id: str) -> Instrument:
    """Load (once per process) a built-in instrument."""
    return load_instrument(builtin_path(instrument_id))

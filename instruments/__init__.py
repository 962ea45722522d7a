"""XLSForm in -> typed, immutable :class:`Instrument` objects.

Imports pyxform, elementpath and the standard library only: no Flask, no database.
"""

from instruments.builtin import BUILTIN_IDS, builtin_path, load_builtin
from instruments.errors import InstrumentError, Message
from instruments.loader import SUPPORTED_FORMATS, ValidationResult, load_instrument, validate_file
from instruments.model import Choice, Group, Instrument, Item, Page

__all__ = [
    "BUILTIN_IDS",
    "SUPPORTED_FORMATS",
    "Choice",
    "Group",
    "Instrument",
    "InstrumentError",
    "Item",
    "Message",
    "Page",
    "ValidationResult",
    "builtin_path",
    "load_builtin",
    "load_instrument",
    "validate_file",
]

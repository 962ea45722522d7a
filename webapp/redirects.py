"""The one check for redirect targets that come from the user (``next``, ``back``).

Only a relative path on this site is followed: it starts with one ``/`` (not ``//``),
holds no backslash (browsers read ``/\\host`` as ``//host``), no scheme or host, no
whitespace or control characters (no header splitting with CR/LF), and stays within
``within`` when a view asks for a narrower prefix. Anything else is ``None``, and the
view redirects to its own page instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["MAX_TARGET_LENGTH", "safe_target"]

#: Longer targets are refused (no page of the site has a URL this long).
MAX_TARGET_LENGTH = 2000


def safe_target(target: object, *, within: str = "/") -> str | None:
    """``target`` if it is a same-site relative path under ``within``, else ``None``."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(within):
        return None
    return target

"""OpenRosa views."""

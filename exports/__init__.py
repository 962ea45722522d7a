"""placevoice exports package."""

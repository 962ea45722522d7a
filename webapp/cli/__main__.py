"""``python -m webapp.cli`` runs the placevoice command line."""

from webapp.cli import main

main()

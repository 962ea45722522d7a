"""The ``placevoice`` command line (click). Tests and benchmarks drive the product with it.

Errors print one line starting with ``error:`` and exit 1; long work shows a progress bar
on a terminal and stays quiet otherwise.
"""

from __future__ import annotations

from importlib import import_module

import click

from webapp.cli.common import PlacevoiceGroup

__all__ = ["cli", "main"]


@click.group(cls=PlacevoiceGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """placevoice: surveys and participatory research for Children's Communities."""


#: Command modules; each defines ``register(cli)``. Missing optional modules are skipped.
_MODULES = (
    "webapp.cli.setup",
    "webapp.cli.demo",
    "webapp.cli.serve",
    "webapp.cli.worker",
    "webapp.cli.data",
    "webapp.cli.packs",
    "webapp.cli.users",
    "webapp.cli.maintenance",
    "webapp.cli.backup",
    "webapp.cli.corrections",
    "webapp.cli.areas",
    "webapp.cli.panel",
    "webapp.cli.network",
)

for _name in _MODULES:
    try:
        _module = import_module(_name)
    except ModuleNotFoundError as _err:
        if _err.name != _name:
            raise
        continue
    _module.register(cli)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="placevoice")

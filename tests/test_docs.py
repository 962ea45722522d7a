"""Docs that tests keep honest: every CLI command and every config key is documented."""

from __future__ import annotations

from pathlib import Path

import click

from webapp.cli import cli
from webapp.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: str = "placevoice") -> list[str]:
    found: list[str] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def test_every_cli_command_is_documented() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    missing = [c for c in _commands(cli) if f"`{c}" not in docs]
    assert missing == [], f"document these in docs/cli.md: {missing}"


def test_every_option_of_every_command_is_documented() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    missing = []
    for path in _commands(cli):
        command: click.Command = cli
        for part in path.split()[1:]:
            assert isinstance(command, click.Group)
            command = command.commands[part]
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                if not any(opt in docs for opt in param.opts if opt.startswith("--")):
                    missing.append(f"{path} {param.opts[0]}")
    assert missing == [], f"document these options in docs/cli.md: {missing}"


def test_every_config_key_is_documented() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text()
    missing = [key for key in DEFAULTS if f"`PLACEVOICE_{key}`" not in docs]
    assert missing == [], f"document these in docs/configuration.md: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    head = readme[:1500]
    assert "placevoice demo" in head
    assert "scripts/test" in head
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        for part in line.split("](")[1:]:
            target = part.split(")")[0]
            if target.startswith(("http", "#", "mailto:")):
                continue
            assert (ROOT / target.split("#")[0]).exists(), f"README links to missing {target}"

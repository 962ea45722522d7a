"""The packages' layers and the surveys package's import graph, read from the source.

Layers, highest first: ``webapp`` -> ``exports`` -> ``surveys`` -> ``analysis`` and
``instruments`` (side by side, neither importing the other). A module may import its own
package and any lower one, never a higher one; only ``webapp`` imports Flask or Werkzeug.
Every import statement counts, including those inside functions (lazy imports) and under
``if TYPE_CHECKING:``. Inside ``surveys`` the modules import each other without a cycle
(imports under ``if TYPE_CHECKING:`` never run, so they are left out of that check).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("instruments", "analysis", "surveys", "exports", "webapp")

#: What each package may NOT import (its higher layers, and its sibling at the bottom).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "instruments": ("analysis", "surveys", "exports", "webapp"),
    "analysis": ("instruments", "surveys", "exports", "webapp"),
    "surveys": ("exports", "webapp"),
    "exports": ("webapp",),
    "webapp": (),
}
#: Imported by webapp alone.
WEB_ONLY = ("flask", "werkzeug")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (``from a import b`` gives a.b when that is a module)
    line: int
    type_checking: bool  # under ``if TYPE_CHECKING:``, never run


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement anywhere in the tree, with whether TYPE_CHECKING guards it."""

    def visit(node: ast.AST, guarded: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, guarded
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, True)
            for child in node.orelse:
                yield from visit(child, guarded)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, guarded)

    yield from visit(tree, False)


def imports_of(path: Path, root: Path, modules: set[str]) -> list[Import]:
    """The imports of one source file; ``modules`` names every module of the project."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node, guarded in _statements(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        found += [Import(name, target, node.lineno, guarded) for target in targets]
    return found


def project_imports(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[Import]:
    files = [path for package in packages for path in sorted((root / package).rglob("*.py"))]
    modules = {module_name(path, root) for path in files}
    return [found for path in files for found in imports_of(path, root, modules)]


def _top(name: str) -> str:
    return name.split(".")[0]


def layer_violations(imports: list[Import]) -> list[str]:
    problems = []
    for found in imports:
        layer, target = _top(found.module), _top(found.target)
        if target in FORBIDDEN.get(layer, ()):
            problems.append(
                f"{found.module}:{found.line} imports {found.target} ({layer} < {target})"
            )
        if layer != "webapp" and (target in WEB_ONLY or target.startswith("flask_")):
            problems.append(f"{found.module}:{found.line} imports {found.target} (web only)")
    return sorted(problems)


def cycles(imports: list[Import], package: str) -> list[list[str]]:
    """Import cycles among the modules of ``package`` (strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for found in imports:
        if found.type_checking or _top(found.module) != package:
            continue
        graph.setdefault(found.module, set())
        if _top(found.target) == package and found.target != found.module:
            graph[found.module].add(found.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return project_imports(ROOT)


def test_every_package_is_read(imports: list[Import]) -> None:
    assert {_top(found.module) for found in imports} == set(PACKAGES)
    assert len({found.module for found in imports}) > 100


def test_no_package_imports_a_higher_layer_and_only_webapp_imports_flask(
    imports: list[Import],
) -> None:
    assert layer_violations(imports) == []


def test_the_surveys_modules_import_each_other_without_a_cycle(imports: list[Import]) -> None:
    assert cycles(imports, "surveys") == []


# --- the checks themselves catch what they are for ------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> list[Import]:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return project_imports(root)


def test_a_lazy_import_of_a_higher_layer_is_caught(tmp_path: Path) -> None:
    imports = _tree(
        tmp_path,
        {
            "surveys/bad.py": "def f():\n    from exports.packs import build\n    return build\n",
            "exports/packs.py": "build = 1\n",
            "analysis/ok.py": "import numpy\n",
        },
    )
    assert layer_violations(imports) == ["surveys.bad:2 imports exports.packs (surveys < exports)"]


def test_flask_outside_webapp_and_the_bottom_siblings_are_caught(tmp_path: Path) -> None:
    imports = _tree(
        tmp_path,
        {
            "exports/web.py": "from flask import request\nimport flask_wtf\n",
            "webapp/ok.py": "from flask import Flask\nfrom exports import web\n",
            "analysis/a.py": "from . import b\nfrom instruments import model\n",
            "analysis/b.py": "",
            "instruments/model.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from webapp import ok\n",
        },
    )
    assert layer_violations(imports) == [
        "analysis.a:2 imports instruments.model (analysis < instruments)",
        "exports.web:1 imports flask (web only)",
        "exports.web:2 imports flask_wtf (web only)",
        "instruments.model:3 imports webapp.ok (instruments < webapp)",
    ]


def test_a_cycle_is_caught_and_a_type_checking_import_is_not_one(tmp_path: Path) -> None:
    imports = _tree(
        tmp_path,
        {
            "surveys/models/__init__.py": "from surveys.models.a import A\n",
            "surveys/models/a.py": "from typing import TYPE_CHECKING\n"
            "from surveys.models.b import B\nA = 1\n"
            "if TYPE_CHECKING:\n    from surveys.models import A\n",
            "surveys/models/b.py": "B = 1\n",
            "surveys/services.py": "from surveys.models import A\n",
            "surveys/x.py": "def f():\n    from .y import g\n",
            "surveys/y.py": "from surveys import x\ng = 1\n",
        },
    )
    assert cycles(imports, "surveys") == [["surveys.x", "surveys.y"]]

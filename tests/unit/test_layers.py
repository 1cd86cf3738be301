"""Layers import downwards only (README, Architecture):

    bobbin/ (CLI, runner, demo) ─► web/ tasks/ worker/ schedules/ ─► services/ ─► connectors/ ─► models/ ─► core/

Read from the source (every ``import`` and ``from … import``, at any depth of the file), so a
lazy import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "models", "connectors", "services", "schedules", "tasks", "worker", "web", "bobbin")
# What each package may import from Bobbin besides itself.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "models": {"core"},
    "connectors": {"core"},
    "services": {"core", "models", "connectors"},
    "schedules": {"core", "models", "connectors", "services"},
    "tasks": {"core", "models", "connectors", "services", "worker"},
    "worker": {"core", "models", "connectors", "services", "schedules"},
    "web": {"core", "models", "connectors", "services", "worker"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts and package == "models":  # alembic's env reads core's settings only
            continue
        upward = imported_packages(path) - ALLOWED[package] - {package}
        if upward:
            wrong[str(path.relative_to(ROOT))] = sorted(upward)
    assert not wrong, f"imports upward: {wrong}"


def private_names_imported(path: Path) -> list[str]:
    """``module._name`` for each private name ``path`` imports from another Bobbin module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in PACKAGES:
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_module_imports_no_private_name_of_another(package: str) -> None:
    # What another module uses is public and named for it (services.holding.order_total, not _total).
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        private = private_names_imported(path)
        if private:
            wrong[str(path.relative_to(ROOT))] = private
    assert not wrong, f"private names imported: {wrong}"


def test_the_site_context_uses_no_service_above_it() -> None:
    # services.context is what services.sites opens a site with: it decrypts the credentials
    # through core.crypto and opens capabilities through the spec, reaching no other service.
    path = ROOT / "services" / "context.py"
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    assert {m for m in modules if m.split(".")[0] == "services"} == set()

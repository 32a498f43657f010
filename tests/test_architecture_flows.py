"""Flows talk to repositories only: no SQL, no tables, no row mapping inside bot/flows."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOWS = ROOT / "bot" / "flows"
FORBIDDEN = ("sqlalchemy", "storage.models", "storage.mapping")


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, in full ("from storage import mapping" counts as storage.mapping)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _forbidden(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def test_flows_never_import_sql_tables_or_mapping() -> None:
    offenders = {
        str(path.relative_to(ROOT)): _forbidden(_imported_modules(path))
        for path in sorted(FLOWS.rglob("*.py"))
        if _forbidden(_imported_modules(path))
    }
    assert offenders == {}


def test_flows_never_reach_for_the_session() -> None:
    """ctx.uow.session is the database itself; a flow asks a repository instead."""
    offenders = []
    for path in sorted(FLOWS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "session" and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "uow":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_check_itself_catches_each_form(tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: every way of importing the forbidden modules is caught."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sqlalchemy.orm\n"
        "from sqlalchemy import select\n"
        "from storage import mapping\n"
        "from storage.models import PersonRow\n"
        "from storage.people_repo import ExpertRef\n",
        encoding="utf-8",
    )
    assert _forbidden(_imported_modules(sample)) == [
        "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.select", "storage.mapping", "storage.models",
        "storage.models.PersonRow",
    ]

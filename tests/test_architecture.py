"""Dependencies point inward: core imports nothing of storage, bot, SQL or chat platforms."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = {"storage", "bot", "sqlalchemy", "alembic", "slack_bolt", "slack_sdk", "telegram", "psycopg", "apscheduler"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_is_pure():
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN_IN_CORE)
        for path in (ROOT / "core").rglob("*.py")
        if _imports(path) & FORBIDDEN_IN_CORE
    }
    assert offenders == {}


def test_storage_never_imports_bot():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "storage").rglob("*.py") if "bot" in _imports(p)]
    assert offenders == []

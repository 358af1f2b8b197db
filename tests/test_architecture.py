"""The import direction written in docs/architecture.md, checked on every module:

core  ←  domains (registry, tax, benefits, ...)  ←  web  ←  cli

``kiban.core`` imports no domain, ``web`` or ``cli``; a domain imports ``core`` (and domains listed as its
dependencies in docs/architecture.md), never ``web`` or ``cli``; ``web`` never imports ``cli``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kiban"
SHELLS = {"web", "cli", "migrations", "models"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("kiban.")}


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else "kiban"


def _allowed_domain_dependencies() -> dict[str, set[str]]:
    """The "Domains" table of docs/architecture.md: | `domain` | depends on `a`, `b` | ..."""
    table: dict[str, set[str]] = {}
    for line in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`(\w+)`\s*\|([^|]*)\|", line)
        if match:
            table[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
    return table


def test_imports_follow_the_layers() -> None:
    allowed = _allowed_domain_dependencies()
    violations: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        layer = _layer(module)
        for imported in _imports(path):
            target = _layer(imported)
            if target == layer or target == "core":
                continue
            if layer == "core":
                violations.append(f"{module} → {imported}: core imports no domain or shell")
            elif layer == "web" and target == "cli":
                violations.append(f"{module} → {imported}: web never imports cli")
            elif layer not in SHELLS and target in SHELLS:
                violations.append(f"{module} → {imported}: a domain never imports {target}")
            elif layer not in SHELLS and target not in allowed.get(layer, set()):
                violations.append(f"{module} → {imported}: not a declared dependency of {layer}")
    assert violations == []


def test_every_domain_is_documented() -> None:
    domains = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - SHELLS - {"core"}
    assert domains <= set(_allowed_domain_dependencies())

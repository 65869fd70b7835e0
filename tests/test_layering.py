"""The import layering of ARCHITECTURE.md, checked statically on every module:
cli, scripts → tasks, rl, retarget, sim2sim → deploy → motion, kernels, robots; kernels and robots
import nothing from the rest; only tasks/ and rl/ import isaaclab."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "source" / "mimiclab"
LOWER = {"motion", "kernels", "robots"}
MIDDLE = {"tasks", "rl", "retarget", "sim2sim"}
ALLOWED = {  # subpackage → mimiclab subpackages it may import
    "robots": {"robots"},
    "kernels": {"kernels"},
    "motion": {"motion", "kernels", "robots"},
    "deploy": {"deploy"} | LOWER,
    **{m: {m, "deploy"} | LOWER for m in MIDDLE},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


MODULES = sorted(p for p in PKG.rglob("*.py") if p.relative_to(PKG).parts[0] in ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_module_respects_the_layering(path):
    layer = path.relative_to(PKG).parts[0]
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "mimiclab" and len(parts) > 1 and parts[1] not in ("_C", "_C_cuda"):
            assert parts[1] in ALLOWED[layer], f"{layer} must not import {name}"
        if parts[0].startswith("isaaclab"):
            assert layer in ("tasks", "rl"), f"only tasks/ and rl/ import isaaclab, {layer} imports {name}"

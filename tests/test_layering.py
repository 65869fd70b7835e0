"""The import layering of ARCHITECTURE.md, checked statically on every module:
cli, scripts, the applications (bench, demo, ikmr, robomirror) → tasks, rl, retarget, sim2sim → deploy → motion, kernels, robots → rotations; kernels
and robots import nothing from the rest but rotations, rotations nothing at all; only tasks/ and rl/
import isaaclab. sim2sim and deploy are numpy-only: of the rotations they import numpy_ops, never
torch_ops, and numpy_ops itself imports nothing but numpy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "source" / "mimiclab"
LOWER = {"motion", "kernels", "robots", "rotations"}
MIDDLE = {"tasks", "rl", "retarget", "sim2sim"}
ALLOWED = {  # subpackage → mimiclab subpackages it may import
    "rotations": {"rotations"},
    "robots": {"robots", "rotations"},
    "kernels": {"kernels", "rotations"},
    "motion": {"motion", "kernels", "robots", "rotations"},
    "deploy": {"deploy"} | LOWER,
    **{m: {m, "deploy"} | LOWER for m in MIDDLE},
    "video_pose": {"video_pose", "retarget"} | LOWER,
}
TOP = {"bench", "demo", "ikmr", "robomirror"}  # the applications: may import any layer
NUMPY_ONLY = {"sim2sim", "deploy"}  # run without torch (deploy imports it lazily, to export ONNX only)
TORCH_FREE = {"sim2sim", "rotations"}  # never import torch (rotations: except torch_ops)
TORCH_ROTATIONS = "mimiclab.rotations.torch_ops"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_subpackage_has_a_layer():
    subpackages = {p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages - set(ALLOWED) - TOP == set()


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
        if layer in TORCH_FREE and path.name != "torch_ops.py":
            assert parts[0] != "torch", f"{path.relative_to(PKG)} imports {name}: {layer} must work with numpy only"


def _imported_names(path: Path) -> set[str]:
    """Every module an import statement anywhere in `path` names (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(("mimiclab",) + path.relative_to(PKG).parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def test_numpy_rotations_import_only_numpy():
    """sim2sim and deploy import mimiclab.rotations.numpy_ops: it (and the package) must stay torch-free."""
    for path in (PKG / "rotations" / "__init__.py", PKG / "rotations" / "numpy_ops.py"):
        extra = {n.split(".")[0] for n in _imported_names(path)} - {"__future__", "numpy"}
        assert not extra, f"{path.relative_to(PKG)} imports {sorted(extra)}; it must import numpy only"


def test_numpy_only_layers_do_not_reach_torch_rotations():
    for path in MODULES:
        if path.relative_to(PKG).parts[0] in NUMPY_ONLY:
            bad = [n for n in _imported_names(path) if n.startswith(TORCH_ROTATIONS)]
            assert not bad, f"{path.relative_to(PKG)} imports {bad}: sim2sim/deploy use mimiclab.rotations.numpy_ops"


def test_numpy_rotations_load_without_torch():
    """At run time too: importing numpy_ops, and the sim2sim modules that use it, in a fresh
    interpreter loads neither torch nor isaaclab."""
    import subprocess
    import sys

    code = ("import sys; import mimiclab.rotations.numpy_ops, mimiclab.sim2sim.signals, mimiclab.deploy.runtime, "
            "mimiclab.deploy.reference, mimiclab.sim2sim.metrics, mimiclab.sim2sim.perturbations; "
            "bad = [m for m in ('torch', 'isaaclab', 'warp') if m in sys.modules]; "
            "assert not bad, bad")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr

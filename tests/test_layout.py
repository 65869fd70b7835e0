"""The fixed top-level layout and the Kit extension manifest."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_top_level_layout():
    for name in ("exts", "csrc", "source", "scripts", "configs", "tests", "CMakeLists.txt",
                 "pyproject.toml", "README.md", ".ci/run", ".gitignore", "source/mimiclab/__init__.py"):
        assert (REPO / name).exists(), name


def test_extension_manifest_is_valid():
    manifest = tomllib.loads((REPO / "exts/mimiclab/config/extension.toml").read_text())
    pkg = manifest["package"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert pkg["version"] == project["version"]
    assert pkg["title"] == "mimiclab"
    assert {"isaaclab", "isaaclab_rl", "isaaclab_tasks"} <= set(manifest["dependencies"])
    assert [m["name"] for m in manifest["python"]["module"]] == ["mimiclab"]
    for key in ("readme", "changelog"):
        assert (REPO / "exts/mimiclab" / pkg[key]).is_file(), key


def test_tasks_entry_point_is_declared():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["isaaclab.tasks"] == {"mimiclab": "mimiclab.tasks"}

"""Curated-set manifests: round trip, kept-only expansion (files, globs, train/eval's --motion, the
motion library), a moved folder, and one-line errors for malformed files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mimiclab.motion import save_motion
from mimiclab.motion.clip_loading import expand_motion_paths
from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.motion.library import MotionLibrary
from mimiclab.motion.manifest import FORMAT, load_manifest, read_manifest, write_manifest
from mimiclab.rl.motion_args import expand_motion_args
from mimiclab.robots.g1 import G1


def _clip(T: int, seed: int):
    t = np.arange(T) / 50.0
    root = np.stack([0.3 * t, 0 * t, 0.78 + 0 * t], axis=1)
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    q = np.tile([j.default_pos for j in G1.joints], (T, 1)) + 0.05 * np.sin(t[:, None] + seed)
    return motion_from_joint_trajectory(root, quat, q, 50.0)


@pytest.fixture(scope="module")
def clip_set(tmp_path_factory):
    """data/{a,b,c}.npz and data/sub/d.npz; a manifest keeping b, sub/d and a, rejecting c."""
    root = tmp_path_factory.mktemp("man") / "data"
    (root / "sub").mkdir(parents=True)
    lengths = {"a": 20, "b": 30, "c": 25, "sub/d": 15}
    for i, (name, T) in enumerate(lengths.items()):
        save_motion(root / f"{name}.npz", _clip(T, i))
    entries = [{"file": str(root / "b.npz"), "keep": True, "reasons": [], "scores": {"joint_jumps": 0.0}},
               {"file": str(root / "c.npz"), "keep": False, "reasons": ["joint_jumps 1 > 0"],
                "scores": {"joint_jumps": 1.0, "recon_error_m": float("nan")}},
               {"file": str(root / "sub" / "d.npz"), "keep": True, "reasons": [], "scores": {}},
               {"file": str(root / "a.npz"), "keep": True, "reasons": [], "scores": {}}]
    manifest = write_manifest(root / "curated.manifest.json", entries, {"quality_bounds": {"joint_jumps": 0}})
    return root, manifest, lengths


def test_round_trip_keeps_relative_files_scores_and_criteria(clip_set):
    root, manifest, _ = clip_set
    doc = json.loads(manifest.read_text())
    assert doc["format"] == FORMAT and doc["version"] == 1 and doc["root"] == str(root.resolve())
    assert [c["file"] for c in doc["clips"]] == ["b.npz", "c.npz", "sub/d.npz", "a.npz"]
    assert doc["clips"][1] == {"file": "c.npz", "keep": False, "reasons": ["joint_jumps 1 > 0"],
                               "scores": {"joint_jumps": 1.0, "recon_error_m": None}}  # JSON has no NaN
    assert doc["criteria"] == {"quality_bounds": {"joint_jumps": 0}}
    assert load_manifest(manifest)["clips"] == doc["clips"]
    assert read_manifest(manifest) == [(root / n).resolve() for n in ("b.npz", "sub/d.npz", "a.npz")]
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]  # atomic: no temporary left


def test_expansion_gives_the_kept_clips_only(clip_set):
    root, manifest, _ = clip_set
    kept = [(root / n).resolve() for n in ("b.npz", "sub/d.npz", "a.npz")]
    assert [p.resolve() for p in expand_motion_paths(str(manifest))] == kept
    assert expand_motion_args([str(manifest)]) == kept
    assert expand_motion_args([str(root / "*.manifest.json")]) == kept  # a glob matching it
    # with other arguments: argument order, no duplicates; a folder never picks up the manifest itself
    both = expand_motion_args([str(root / "c.npz"), str(manifest), str(root)])
    assert both == [(root / "c.npz").resolve(), *kept]


def test_a_library_from_a_manifest_has_exactly_the_kept_clips(clip_set):
    root, manifest, lengths = clip_set
    lib = MotionLibrary.from_paths(str(manifest), list(G1.joint_names), list(G1.body_names))
    assert lib.num_clips == 3 and lib.clip_names == ["b", "d", "a"]
    assert lib.length.tolist() == [lengths["b"], lengths["sub/d"], lengths["a"]]
    assert [p for p in lib.clip_paths] == [str((root / n).resolve()) for n in ("b.npz", "sub/d.npz", "a.npz")]


def test_a_moved_folder_still_reads(clip_set, tmp_path):
    root, _, _ = clip_set
    moved = tmp_path / "moved"
    shutil.copytree(root, moved)
    doc = json.loads((moved / "curated.manifest.json").read_text())
    doc["root"] = str(tmp_path / "gone")  # the folder it was written in no longer exists
    (moved / "curated.manifest.json").write_text(json.dumps(doc))
    assert read_manifest(moved / "curated.manifest.json")[0] == (moved / "b.npz").resolve()


@pytest.mark.parametrize("text, message", [
    ("{not json", "not a JSON manifest"),
    ('{"format": "something-else", "version": 1, "clips": []}', "not a mimiclab manifest (format 'something-else'"),
    ('[1, 2]', "not a mimiclab manifest"),
    ('{"format": "mimiclab-manifest", "version": 9, "clips": []}', "manifest version 9"),
    ('{"format": "mimiclab-manifest", "version": 1, "clips": {}}', "'clips' must be a list"),
    ('{"format": "mimiclab-manifest", "version": 1, "clips": [{"file": "a.npz"}]}', "clip 0 needs"),
])
def test_malformed_manifests_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.manifest.json"
    path.write_text(text)
    for read in (read_manifest, lambda p: expand_motion_args([str(p)])):
        with pytest.raises(ValueError) as e:
            read(path)
        assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_missing_kept_clips_are_named_and_an_empty_set_is_an_error(tmp_path):
    entries = [{"file": str(tmp_path / "gone.npz"), "keep": True},
               {"file": str(tmp_path / "also_gone.npz"), "keep": False}]
    path = write_manifest(tmp_path / "x.manifest.json", entries, {})
    with pytest.raises(ValueError, match=r"1 kept clip\(s\) missing: .*gone\.npz$"):
        read_manifest(path)
    empty = write_manifest(tmp_path / "none.manifest.json", entries[1:], {})
    assert read_manifest(empty) == []
    with pytest.raises(ValueError, match="manifest keeps no clips"):
        expand_motion_args([str(empty)])
    with pytest.raises(ValueError, match="no such manifest"):
        read_manifest(tmp_path / "absent.manifest.json")

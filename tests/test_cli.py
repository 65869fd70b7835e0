"""The `mimiclab` command: doctor reports what matters; unbuilt commands say so and exit non-zero."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _mimiclab(*args):
    return subprocess.run([sys.executable, "-m", "mimiclab", *args], capture_output=True, text=True)


def test_doctor_is_usable_here_and_names_everything():
    res = _mimiclab("doctor")
    assert res.returncode == 0, res.stdout + res.stderr
    for name in ("python", "torch", "isaaclab", "warp", "newton", "mujoco", "device cpu",
                 "kernels _C (C++)", "kernels _C_cuda (CUDA)",
                 "physics _C_mujoco (MuJoCo C worlds)", "assets G1 MJCF", "assets G1 USD"):
        assert name in res.stdout, name
    checks = {c["name"]: c for c in json.loads(_mimiclab("doctor", "--json").stdout)}
    assert checks["kernels _C (C++)"]["status"] == "ok"
    assert checks["physics _C_mujoco (MuJoCo C worlds)"]["status"] == "ok"
    assert all(c["status"] != "fail" for c in checks.values())


def test_export_of_a_missing_checkpoint_is_a_one_line_error(tmp_path):
    res = _mimiclab("export", "--checkpoint", str(tmp_path / "m.pt"), "-o", str(tmp_path / "x"))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [f"mimiclab export: error: checkpoint {tmp_path / 'm.pt'}: no such file"]
    assert not (tmp_path / "x").exists()


def test_bench_kernels_writes_side_by_side_results(tmp_path):
    out = tmp_path / "bench.json"
    res = _mimiclab("bench", "kernels", "--only", "fk", "ik", "--quick", "--repeats", "2", "--json", str(out))
    assert res.returncode == 0, res.stderr
    rows = json.loads(out.read_text())
    keys = {"kernel", "backend", "device", "size", "throughput", "unit", "ratio_vs_reference"}
    assert all(keys <= set(r) for r in rows)
    assert {(r["kernel"], r["backend"]) for r in rows} >= {("fk", "cpp"), ("fk", "torch"), ("ik", "cpp"), ("ik", "torch")}
    for r in rows:
        if r["backend"] == "torch":
            assert r["ratio_vs_reference"] == 1.0
        if r["kernel"] == "ik":
            assert r["mean_error_mm"] >= 0
    assert "vs torch" in res.stdout


def test_unknown_command_is_rejected():
    res = _mimiclab("fly")
    assert res.returncode == 2 and "invalid choice" in res.stderr

"""Asset provisioning: checksum-verified, atomic, idempotent, and clear about what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mimiclab.robots import assets
from mimiclab.robots.assets import AssetError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cached_wheel() -> Path:
    """The pinned wheel that scripts/setup.sh left in the default cache."""
    wheel = Path(os.environ.get("MIMICLAB_ASSET_DIR", Path.home() / ".cache" / "mimiclab")) / "wheels" / assets.MJLAB_WHEEL
    if not wheel.is_file():
        pytest.skip(f"{wheel} not provisioned (scripts/setup.sh provisions it)")
    return wheel


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMICLAB_ASSET_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MIMICLAB_G1_MJCF", raising=False)
    return tmp_path / "cache"


def test_missing_cache_is_a_clear_error(empty_cache):
    with pytest.raises(AssetError, match="not provisioned.*mimiclab assets provision"):
        assets.g1_mjcf_path()
    st = assets.status()
    assert st["ok"] is False and "\n" not in st["error"]


def test_provision_from_wheel_is_idempotent(empty_cache, cached_wheel):
    first = assets.provision(cached_wheel)
    assert first["mjcf"].is_file() and first["usd"].is_file()
    assert (first["mjcf"].parent / "assets" / "pelvis.STL").is_file()
    usd_mtime = first["usd"].stat().st_mtime_ns
    second = assets.provision()  # nothing to download or convert again
    assert second == first
    assert first["usd"].stat().st_mtime_ns == usd_mtime
    assert assets.status()["ok"] is True
    # only the G1 asset files are taken from the wheel: no Python code of mjlab
    assert not list(empty_cache.rglob("*.py"))


def test_corrupted_wheel_is_rejected_and_removed(empty_cache, tmp_path):
    fake = tmp_path / assets.MJLAB_WHEEL
    fake.write_bytes(b"not the pinned wheel")
    with pytest.raises(AssetError, match="checksum mismatch"):
        assets.provision(fake)
    assert not (empty_cache / "wheels" / assets.MJLAB_WHEEL).exists()
    assert not (empty_cache / "g1" / "mjcf").exists()


def test_user_mjcf_missing_broken_or_not_g1(empty_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("MIMICLAB_G1_MJCF", str(tmp_path / "nope.xml"))
    with pytest.raises(AssetError, match="MIMICLAB_G1_MJCF: file not found"):
        assets.provision()
    broken = tmp_path / "broken.xml"
    broken.write_text("<mujoco><worldbody><body name='a'>")
    monkeypatch.setenv("MIMICLAB_G1_MJCF", str(broken))
    with pytest.raises(AssetError, match="MIMICLAB_G1_MJCF: cannot load"):
        assets.provision()
    other = tmp_path / "box.xml"
    other.write_text("<mujoco><worldbody><body name='box'><freejoint/><geom size='0.1'/></body></worldbody></mujoco>")
    monkeypatch.setenv("MIMICLAB_G1_MJCF", str(other))
    with pytest.raises(AssetError, match="not a G1 29-DoF model"):
        assets.provision()


def test_user_mjcf_gets_its_own_usd(empty_cache, cached_wheel, tmp_path, monkeypatch):
    stock = assets.provision(cached_wheel)
    # the same robot with one joint limit changed: a different MJCF, hence a different USD
    custom_dir = tmp_path / "custom"
    custom_dir.mkdir()
    (custom_dir / "assets").symlink_to(stock["mjcf"].parent / "assets")
    text = stock["mjcf"].read_text().replace('range="-2.618 2.618"', 'range="-2.6 2.6"', 1)
    (custom_dir / "g1_custom.xml").write_text(text)
    monkeypatch.setenv("MIMICLAB_G1_MJCF", str(custom_dir / "g1_custom.xml"))
    custom = assets.provision()
    assert custom["mjcf"] == custom_dir / "g1_custom.xml"
    assert custom["usd"] != stock["usd"] and custom["usd"].is_file()


def _run(cmd, **env):
    full_env = {**os.environ, **env}
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=REPO)


def test_doctor_fails_on_a_broken_user_mjcf(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<mujoco><worldbody>")
    res = _run([sys.executable, "-m", "mimiclab", "doctor"], MIMICLAB_G1_MJCF=str(broken))
    assert res.returncode != 0
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and "MIMICLAB_G1_MJCF: cannot load" in err[0]


def test_setup_fails_on_a_missing_user_mjcf(tmp_path):
    """The set-up stops loudly at the asset step (the stack itself is already installed here)."""
    res = _run(["bash", "scripts/setup.sh"], MIMICLAB_G1_MJCF=str(tmp_path / "missing.xml"))
    assert res.returncode != 0
    assert "FAILED: provision G1 assets" in res.stderr
    assert "MIMICLAB_G1_MJCF: file not found" in res.stderr

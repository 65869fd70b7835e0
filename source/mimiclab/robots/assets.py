"""G1 asset cache: the MJCF with meshes (from the pinned mjlab wheel) and its USD conversion.

Layout under the cache root (``$MIMICLAB_ASSET_DIR``, default ``~/.cache/mimiclab``)::

    wheels/mjlab-1.6.0-py3-none-any.whl   checksum-verified source of the asset files
    g1/mjcf/g1.xml + g1/mjcf/assets/*.STL  extracted MJCF (mjlab is never imported)
    g1/usd/<mjcf digest>/g1.usdc           USD for Isaac Lab, one per MJCF content

A user MJCF (``$MIMICLAB_G1_MJCF``) replaces the stock one; its USD is cached by content digest.
Only :func:`provision` (run by ``scripts/setup.sh`` / ``mimiclab assets provision``) may download,
and only through pip from the package registry; everything else reads the cache and fails with a
one-line :class:`AssetError` when something is missing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MJLAB_VERSION = "1.6.0"
MJLAB_WHEEL = f"mjlab-{MJLAB_VERSION}-py3-none-any.whl"
MJLAB_WHEEL_SHA256 = "03d003854e2f44c48330c6dcf4c2253ff7641bb569747846825a21b9efa8540b"
_WHEEL_G1_DIR = "mjlab/asset_zoo/robots/unitree_g1/xmls/"
G1_MJCF_NAME = "g1.xml"
G1_USD_NAME = "g1.usdc"


class AssetError(RuntimeError):
    """A missing, broken or unverifiable asset. The message is one line, naming the problem."""


def asset_dir() -> Path:
    """Cache root: ``$MIMICLAB_ASSET_DIR`` or ``~/.cache/mimiclab``."""
    env = os.environ.get("MIMICLAB_ASSET_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mimiclab"


def stock_mjcf_path() -> Path:
    return asset_dir() / "g1" / "mjcf" / G1_MJCF_NAME


def user_mjcf() -> Path | None:
    """``$MIMICLAB_G1_MJCF`` if set (not validated here)."""
    env = os.environ.get("MIMICLAB_G1_MJCF")
    return Path(env).expanduser() if env else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def validate_mjcf(path: Path) -> None:
    """Raise AssetError unless `path` parses in MuJoCo and has every G1 joint and body by name."""
    from mimiclab.robots.g1 import G1

    origin = "MIMICLAB_G1_MJCF" if user_mjcf() == path else "G1 MJCF"
    if not path.is_file():
        raise AssetError(f"{origin}: file not found: {path}")
    import mujoco

    try:
        model = mujoco.MjModel.from_xml_path(str(path))
    except Exception as e:  # mujoco raises ValueError with a multi-line message
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise AssetError(f"{origin}: cannot load {path}: {first}") from None
    joints = {model.joint(i).name for i in range(model.njnt)}
    bodies = {model.body(i).name for i in range(model.nbody)}
    missing = [n for n in G1.joint_names if n not in joints] + [
        n for n in G1.body_names if n not in bodies
    ]
    if missing:
        raise AssetError(
            f"{origin}: {path} is not a G1 29-DoF model (missing {len(missing)} names, e.g. {missing[0]})"
        )


def g1_mjcf_path(validate: bool = True) -> Path:
    """The MJCF in use: ``$MIMICLAB_G1_MJCF`` if set, else the provisioned stock G1."""
    path = user_mjcf() or stock_mjcf_path()
    if not path.exists() and user_mjcf() is None:
        raise AssetError(
            f"G1 assets not provisioned: {path} is missing (run `mimiclab assets provision` or scripts/setup.sh)"
        )
    if validate:
        validate_mjcf(path)
    return path


USD_CONVERSION = b"root-body-at-prim-origin-1"  # part of the USD cache key: bump when the conversion changes


def _mjcf_digest(mjcf: Path) -> str:
    """Digest of the MJCF text, every file beside it that it may reference (meshes) and the
    conversion recipe."""
    h = hashlib.sha256(mjcf.read_bytes())
    h.update(USD_CONVERSION)
    for p in sorted(mjcf.parent.rglob("*")):
        if p.is_file() and p != mjcf and p.suffix.lower() in {".stl", ".obj", ".msh", ".png", ".xml"}:
            h.update(str(p.relative_to(mjcf.parent)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def g1_usd_path(mjcf: Path | None = None) -> Path:
    """Cached USD for `mjcf` (default: the MJCF in use); AssetError if it was not converted yet."""
    mjcf = mjcf or g1_mjcf_path(validate=False)
    usd = asset_dir() / "g1" / "usd" / _mjcf_digest(mjcf) / G1_USD_NAME
    if not usd.is_file():
        raise AssetError(
            f"G1 USD not converted for {mjcf}: {usd} is missing (run `mimiclab assets provision`)"
        )
    return usd


def _download_wheel(dest: Path) -> Path:
    """pip download of the pinned mjlab wheel (package registry only), no dependencies."""
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", tmp, f"mjlab=={MJLAB_VERSION}"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / MJLAB_WHEEL
        if res.returncode != 0 or not got.is_file():
            tail = (res.stderr or res.stdout).strip().splitlines()
            raise AssetError(f"could not download {MJLAB_WHEEL}: {tail[-1] if tail else 'pip failed'}")
        os.replace(got, dest / MJLAB_WHEEL)
    return dest / MJLAB_WHEEL


def _verified_wheel(wheel: Path | None) -> Path:
    wheels = asset_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    target = wheels / MJLAB_WHEEL
    if wheel is not None:
        if not wheel.is_file():
            raise AssetError(f"mjlab wheel not found: {wheel}")
        if wheel.resolve() != target.resolve():
            shutil.copyfile(wheel, target.with_suffix(".part"))
            os.replace(target.with_suffix(".part"), target)
    elif not target.is_file():
        _download_wheel(wheels)
    digest = sha256_file(target)
    if digest != MJLAB_WHEEL_SHA256:
        target.unlink()
        raise AssetError(f"{MJLAB_WHEEL}: checksum mismatch (sha256 {digest[:12]}…, expected {MJLAB_WHEEL_SHA256[:12]}…); removed it")
    return target


def _extract_mjcf(wheel: Path) -> Path:
    """Extract only the G1 xmls/ folder, atomically (temp folder, then rename)."""
    final = stock_mjcf_path().parent
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=final.parent) as tmp:
        out = Path(tmp) / "mjcf"
        with zipfile.ZipFile(wheel) as zf:
            members = [m for m in zf.namelist() if m.startswith(_WHEEL_G1_DIR) and not m.endswith("/")]
            if not members:
                raise AssetError(f"{wheel.name}: has no {_WHEEL_G1_DIR}")
            for m in members:
                rel = Path(m[len(_WHEEL_G1_DIR):])
                if rel.is_absolute() or ".." in rel.parts:
                    raise AssetError(f"{wheel.name}: unsafe path in archive: {m}")
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_bytes(zf.read(m))
        if final.exists():
            shutil.rmtree(final)
        os.replace(out, final)
    return stock_mjcf_path()


def convert_to_usd(mjcf: Path) -> Path:
    """MJCF → single-layer USD with mujoco-usd-converter (offline, seconds), cached by digest."""
    try:
        return g1_usd_path(mjcf)
    except AssetError:
        pass
    import mujoco_usd_converter

    target = asset_dir() / "g1" / "usd" / _mjcf_digest(mjcf) / G1_USD_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        converter = mujoco_usd_converter.Converter(layer_structure=False, scene=False)
        source = _root_at_origin(mjcf, Path(tmp) / "source")
        try:
            produced = Path(converter.convert(str(source), str(Path(tmp) / "usd")).path)
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise AssetError(f"USD conversion of {mjcf} failed: {first}") from None
        os.replace(produced, target)
    return target


def _root_at_origin(mjcf: Path, folder: Path) -> Path:
    """A copy of `mjcf` in `folder` whose free-floating root body sits at its parent's origin, with
    its asset folders made absolute. MuJoCo reads a free body's `pos` only as its initial qpos, but
    the USD converter bakes it into the articulation: the pelvis would then sit 0.793 m above the
    prim, and Isaac Lab's init_state height (the pelvis height) would spawn it at 0.76 + 0.793 m."""
    import xml.etree.ElementTree as ET

    tree = ET.parse(mjcf)
    root = tree.getroot()
    compiler = root.find("compiler")
    if compiler is None:
        compiler = ET.Element("compiler")
        root.insert(0, compiler)
    for key in ("meshdir", "texturedir"):
        if compiler.get(key) is not None and not Path(compiler.get(key)).is_absolute():
            compiler.set(key, str((mjcf.parent / compiler.get(key)).resolve()))
    if compiler.get("assetdir") is not None and not Path(compiler.get("assetdir")).is_absolute():
        compiler.set("assetdir", str((mjcf.parent / compiler.get("assetdir")).resolve()))
    elif compiler.get("assetdir") is None and compiler.get("meshdir") is None:
        compiler.set("assetdir", str(mjcf.parent.resolve()))
    world = root.find("worldbody")
    for body in [] if world is None else world.findall("body"):
        if body.find("freejoint") is not None or any(j.get("type") == "free" for j in body.findall("joint")):
            body.set("pos", "0 0 0")
            for key in ("quat", "euler", "axisangle", "xyaxes", "zaxis"):
                body.attrib.pop(key, None)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / mjcf.name
    tree.write(out, encoding="utf-8", xml_declaration=False)
    return out


def provision(wheel: Path | None = None) -> dict[str, Path]:
    """Idempotently make the G1 MJCF and USD available; may pip-download the pinned wheel.

    With ``$MIMICLAB_G1_MJCF`` set, that MJCF is validated and converted instead of the stock one.
    """
    custom = user_mjcf()
    if custom is not None:
        validate_mjcf(custom)
        mjcf = custom
    else:
        mjcf = stock_mjcf_path()
        try:
            validate_mjcf(mjcf)
        except AssetError:
            mjcf = _extract_mjcf(_verified_wheel(wheel))
            validate_mjcf(mjcf)
    return {"mjcf": mjcf, "usd": convert_to_usd(mjcf)}


def status() -> dict[str, object]:
    """Cache state for `mimiclab doctor`: paths and whether each piece is usable (never raises)."""
    out: dict[str, object] = {"asset_dir": str(asset_dir()), "user_mjcf": str(user_mjcf() or "")}
    try:
        mjcf = g1_mjcf_path()
        out["mjcf"] = str(mjcf)
        out["usd"] = str(g1_usd_path(mjcf))
        out["ok"] = True
    except AssetError as e:
        out["ok"] = False
        out["error"] = str(e)
    return out

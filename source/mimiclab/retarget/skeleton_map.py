"""Skeleton maps: which source joints play each human role (configs/retarget/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

CONFIG_DIR = Path(__file__).resolve().parents[3] / "configs" / "retarget"
ROLES = ("pelvis", "chest", "head", "left_hip", "left_knee", "left_ankle", "left_toe", "left_shoulder",
         "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "right_toe",
         "right_shoulder", "right_elbow", "right_wrist")
OPTIONAL_ROLES = ("head", "left_toe", "right_toe")


@dataclass
class SkeletonMap:
    """name, match (joints that must exist for auto-selection), roles {role: [source joints]}."""

    name: str
    match: list[str]
    roles: dict[str, list[str]]
    source: str = ""
    direct: bool = False  # robot body names → source joints of the same name (pos + orientation)
    pos_weight: float = 1.0
    rot_weight: float = 0.5
    mirrored: bool = False  # inferred: a left-handed file, to be mirrored before retargeting
    up: np.ndarray | None = None  # inferred: the body's up direction in file coordinates (3,)
    notes: tuple[str, ...] = ()  # inferred: what the inference found worth saying

    @classmethod
    def from_yaml(cls, path: str | Path) -> "SkeletonMap":
        from omegaconf import OmegaConf

        path = Path(path)
        try:
            cfg = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        except Exception as e:
            raise ValueError(f"{path}: cannot read skeleton map: {str(e).splitlines()[0]}") from None
        if isinstance(cfg, dict) and cfg.get("direct"):
            return cls(str(cfg.get("name", path.stem)), list(cfg.get("match", [])), {}, str(path), True,
                       float(cfg.get("pos_weight", 1.0)), float(cfg.get("rot_weight", 0.5)))
        if not isinstance(cfg, dict) or "roles" not in cfg:
            raise ValueError(f"{path}: a skeleton map needs a 'roles' section")
        roles = {}
        for role, value in cfg["roles"].items():
            if role not in ROLES:
                raise ValueError(f"{path}: unknown role '{role}' (roles: {', '.join(ROLES)})")
            roles[role] = [value] if isinstance(value, str) else list(value)
        missing = [r for r in ROLES if r not in roles and r not in OPTIONAL_ROLES]
        if missing:
            raise ValueError(f"{path}: roles missing from the map: {', '.join(missing)}")
        return cls(str(cfg.get("name", path.stem)), list(cfg.get("match", [])), roles, str(path))

    def role_positions(self, joint_names: list[str], positions: np.ndarray,
                       confidence: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """{role: (T,3)} mean position of the role's source joints that exist, and {role: (T,) bool}
        validity (a frame where none of them is present is invalid). Optional roles whose joints
        are all absent are left out; a required role without any joint raises ValueError."""
        index = {n: i for i, n in enumerate(joint_names)}
        T = positions.shape[0]
        out, valid = {}, {}
        for role, names in self.roles.items():
            cols = [index[n] for n in names if n in index]
            if not cols:
                if role in OPTIONAL_ROLES:
                    continue
                raise ValueError(f"skeleton map '{self.name}': role '{role}' needs one of {names}, none is in the input")
            pts = positions[:, cols]
            ok = np.isfinite(pts).all(-1)
            if confidence is not None:
                ok &= confidence[:, cols] > 0
            cnt = ok.sum(1)
            summed = np.where(ok[..., None], pts, 0.0).sum(1)
            out[role] = np.divide(summed, np.maximum(cnt, 1)[:, None])
            valid[role] = cnt > 0
        return out, valid


@lru_cache(maxsize=1)
def builtin_maps() -> tuple[SkeletonMap, ...]:
    """The shipped maps (configs/retarget/*.yaml), read once per process (treat as read-only)."""
    return tuple(SkeletonMap.from_yaml(p) for p in sorted(CONFIG_DIR.glob("*.yaml")) if p.stem != "g1_targets")


def select_map(spec: str, human) -> SkeletonMap:
    """The map for a HumanMotion: a user YAML or built-in name when `spec` names one; with 'auto',
    skeleton trees without a known keypoint layout (BVH) get their roles inferred from topology and
    geometry (``skeleton_infer``), falling back to the built-in name maps only when the tree holds
    no body at all; keypoint layouts use their built-in maps."""
    where = human.source or human.name
    if spec in ("auto", "") and human.layout is not None:  # a keypoint layout: its own map when it has one
        own = next((m for m in builtin_maps() if m.name == human.layout), None)
        if own is not None and all(j in human.joint_names for j in own.match):
            return own
    if spec not in ("auto", "") or human.parents is None or human.layout is not None:
        return choose_map(spec, human.joint_names, where)
    from mimiclab.retarget.skeleton_infer import infer_skeleton

    names = set(human.joint_names)
    for m in builtin_maps():  # robot-named trees (a G1 motion as BVH) follow their namesakes
        if m.direct and m.match and all(j in names for j in m.match):
            return m

    try:
        found = infer_skeleton(human.joint_names, human.parents, human.positions, where,
                               human.extra.get("rest_positions"))
    except ValueError as e:
        if "not a biped" in str(e):
            raise
        try:
            return choose_map("auto", human.joint_names, where)
        except ValueError:
            raise e from None
    roles = {role: [name] for role, name in found.roles.items()}
    roles["chest"] = [found.roles["left_shoulder"], found.roles["right_shoulder"]]  # as the built-in maps
    return SkeletonMap("inferred", [], roles, "topology+geometry" + f" (sides from {found.sides_from})",
                       mirrored=found.mirrored, up=found.up, notes=tuple(found.notes))


def choose_map(spec: str, joint_names: list[str], where: str = "") -> SkeletonMap:
    """'auto' (first built-in map whose `match` joints all exist), a built-in name or a YAML path."""
    if spec not in ("auto", "") and (spec.endswith((".yaml", ".yml")) or "/" in spec):
        return SkeletonMap.from_yaml(spec)
    maps = builtin_maps()
    if spec not in ("auto", ""):
        for m in maps:
            if m.name == spec:
                return m
        raise ValueError(f"unknown skeleton '{spec}' (built-in: {', '.join(m.name for m in maps)}; or a map .yaml)")
    names = set(joint_names)
    for m in maps:
        if m.match and all(j in names for j in m.match):
            return m
    best = min(maps, key=lambda m: sum(j not in names for j in m.match))
    unmapped = [j for j in best.match if j not in names]
    raise ValueError(f"{where or 'input'}: unknown skeleton — no built-in map matches; closest '{best.name}' lacks "
                     f"{', '.join(unmapped)}; input joints: {', '.join(joint_names[:30])}"
                     f"{'…' if len(joint_names) > 30 else ''} (pass --skeleton map.yaml)")

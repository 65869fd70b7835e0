"""Re-encode a real Bandai Namco BVH clip in the vocabularies and conventions users bring
(Mixamo, Xsens MVN, CMU, LAFAN1, Perception Neuron, MocapBank/Biovision, SMPL-named, Geno/ZeroEGGS,
3ds Max Biped, nameless), with the same joint *positions* in every frame: extra joints are added
with zero rotation (dummies and spine joints at a parent's point, twist joints part-way along a
bone, fingers/eyes/props as leaves), units, up axis, handedness, channel orders and text layout
change. Retargeting any variant must then give the original clip's G1 motion.

Bandai's skeleton: joint_Root → Hips → Spine → Chest → Neck → Head; Chest → Shoulder_X → UpperArm_X
→ LowerArm_X → Hand_X; Hips → UpperLeg_X → LowerLeg_X → Foot_X → Toes_X (X = L/R); bones along
each parent's local +x; centimetres, Y up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mimiclab.retarget.sources.bvh import bvh_channel_values, read_bvh, write_bvh
from mimiclab.rotations.numpy_ops import matrix_from_quat

CMU_UNIT = 0.0254 / 0.45  # metres per CMU unit
SHARED = Path(__file__).resolve().parents[2].parent / "shared/data"
CLIPS = {"walk": "bvh/bandai1_walk_normal_001.bvh", "run": "bvh/bandai2_run_elderly_001.bvh",
         "dash": "bandai/dataset-1/dataset-1_dash_*.bvh", "bow": "bandai/dataset-1/dataset-1_bow_*.bvh",
         "punch": "bandai/dataset-1/dataset-1_punch_*.bvh",
         "raise_hand": "bandai/dataset-2/dataset-2_raise-up-left-hand_*.bvh"}


def shared_clip(clip: str) -> Path:
    """Path of a shared Bandai clip (a key of CLIPS; globs take the first match); skips the test
    (reason shown) when absent."""
    import pytest

    matches = sorted(SHARED.glob(CLIPS[clip]))
    if not matches:
        pytest.skip(f"shared clip not found: {SHARED / CLIPS[clip]} (the ../shared/data folder is absent)")
    return matches[0]


@dataclass
class Skel:
    """names (J,), parents (J,), offsets (J,3) [file units], local rotations (T,J,3,3), root
    translation (T,3) [file units]; root is joint 0 (parents in depth-first order)."""

    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    rot: np.ndarray
    root_pos: np.ndarray
    frame_time: float
    leaves: list[tuple[int, np.ndarray]] = field(default_factory=list)
    moving: int = 0  # the joint whose translation is root_pos (1 below an added static root)

    def index(self, name: str) -> int:
        return self.names.index(name)


def load_bandai(path: str | Path, frames: int | None = None) -> Skel:
    """The clip with joint_Root folded into Hips (Hips becomes the root), first `frames` frames."""
    m = read_bvh(path)
    T = m.num_frames if frames is None else min(frames, m.num_frames)
    R = matrix_from_quat(m.orientations[:T])  # global (T,J,3,3)
    P = m.positions[:T]
    parents = m.parents
    local = R.copy()
    for j, p in enumerate(parents):
        if p >= 0:
            local[:, j] = np.swapaxes(R[:, p], -1, -2) @ R[:, j]
    keep = list(range(1, len(m.joint_names)))  # drop joint_Root
    remap = {old: new for new, old in enumerate(keep)}
    names = [m.joint_names[j] for j in keep]
    new_parents = [remap.get(int(parents[j]), -1) for j in keep]
    offsets = m.extra["offsets"][keep].copy()
    rot = local[:, keep].copy()
    rot[:, 0] = R[:, 1]  # Hips' global frame
    offsets[0] = 0.0
    return Skel(names, new_parents, offsets, rot, P[:, 1].copy(), float(m.extra["frame_time"]))


def rename(s: Skel, mapping: dict[str, str], prefix: str = "") -> Skel:
    s.names = [prefix + mapping.get(n, n) for n in s.names]
    return s


def insert_above(s: Skel, child: str, new: str, fraction: float = 0.0) -> Skel:
    """A joint between `child` and its parent, `fraction` of the way along the bone, zero rotation."""
    c = s.index(child)
    p = s.parents[c]
    at = c  # insert just before the child (keeps depth-first order)
    off = s.offsets[c].copy()
    s.names.insert(at, new)
    s.parents = [q + (q >= at) for q in s.parents]
    s.parents.insert(at, p)
    s.parents[at + 1] = at
    s.offsets = np.insert(s.offsets, at, fraction * off, axis=0)
    s.offsets[at + 1] = (1.0 - fraction) * off
    s.rot = np.insert(s.rot, at, np.eye(3), axis=1)
    s.leaves = [(q + (q >= at), o) for q, o in s.leaves]
    return s


def add_root(s: Skel, name: str) -> Skel:
    """A static root above the current one (at the origin, no rotation), as some exporters write."""
    s.names.insert(0, name)
    s.parents = [-1] + [q + 1 if q >= 0 else 0 for q in s.parents]
    s.offsets = np.insert(s.offsets, 0, np.zeros(3), axis=0)
    s.rot = np.insert(s.rot, 0, np.eye(3), axis=1)
    s.leaves = [(q + 1, o) for q, o in s.leaves]
    s.moving += 1
    return s


def add_leaf(s: Skel, parent: str, new: str, offset, rotation_deg: float = 0.0) -> Skel:
    """A child joint with no children of its own (a finger, an eye, a prop, an end joint)."""
    p = s.index(parent)
    at = p + 1
    while at < len(s.names) and _descends(s, at, p):
        at += 1
    s.names.insert(at, new)
    s.parents = [q + (q >= at) for q in s.parents]
    s.parents.insert(at, p)
    s.offsets = np.insert(s.offsets, at, np.asarray(offset, float), axis=0)
    a = np.deg2rad(rotation_deg)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])
    s.rot = np.insert(s.rot, at, rz, axis=1)
    s.leaves = [(q + (q >= at), o) for q, o in s.leaves]
    return s


def _descends(s: Skel, j: int, ancestor: int) -> bool:
    while j >= 0:
        if j == ancestor:
            return True
        j = s.parents[j]
    return False


def add_fingers(s: Skel, hand: str, names: list[str], length: float = 3.0) -> Skel:
    """Finger chains of 3 joints under `hand`, spread sideways (names: one per finger, '{}' → 1..3)."""
    for k, fmt in enumerate(names):
        parent = hand
        for n in range(1, 4):
            off = [length, (k - len(names) / 2) * 1.5, 0.0] if n == 1 else [length * 0.7, 0.0, 0.0]
            add_leaf(s, parent, fmt.format(n), off, rotation_deg=10.0 * n)
            parent = fmt.format(n)
    return s


def scale_units(s: Skel, metres_per_unit: float) -> Skel:
    f = 0.01 / metres_per_unit  # Bandai is in centimetres
    s.offsets = s.offsets * f
    s.root_pos = s.root_pos * f
    s.leaves = [(p, o * f) for p, o in s.leaves]
    return s


def rotate_world(s: Skel, A: np.ndarray) -> Skel:
    """Change the world axes (e.g. Y-up → Z-up): the root's frame and position are rotated."""
    s.rot[:, 0] = A @ s.rot[:, 0]
    if s.moving == 0:
        s.root_pos = s.root_pos @ A.T
    return s


def mirror_world(s: Skel) -> Skel:
    """A left-handed file: world x negated (every frame conjugated by the reflection)."""
    M = np.diag([-1.0, 1.0, 1.0])
    s.offsets = s.offsets @ M
    s.rot = M @ s.rot @ M
    s.root_pos = s.root_pos @ M
    s.leaves = [(p, o @ M) for p, o in s.leaves]
    return s


def write(s: Skel, path: Path, order: str = "ZXY", root_order: str | None = None, all_positions: bool = False,
          newline: str = "\n", indent: str | None = None) -> Path:
    """Write the skeleton as BVH with rotation channel order `order` (root: `root_order`)."""
    J = len(s.names)
    T = s.rot.shape[0]
    channels = []
    for j in range(J):
        o = root_order if (j == 0 and root_order) else order
        rot_ch = [f"{a}rotation" for a in o]
        pos_ch = ["Xposition", "Yposition", "Zposition"] if (j in (0, s.moving) or all_positions) else []
        channels.append(pos_ch + rot_ch)
    trans = np.broadcast_to(s.offsets[None], (T, J, 3)).copy()
    trans[:, s.moving] = s.root_pos
    values = bvh_channel_values(channels, trans, s.rot)
    write_bvh(path, s.names, np.array(s.parents), s.offsets, channels, values, s.frame_time,
              end_sites=s.leaves or None, decimals=6)
    if newline != "\n" or indent is not None:
        text = path.read_text()
        if indent is not None:
            text = "\n".join(indent * (len(ln) - len(ln.lstrip("\t"))) + ln.lstrip("\t") for ln in text.split("\n"))
        path.write_bytes(text.replace("\n", newline).encode())
    return path


Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
Y_UP_TO_X_UP = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def _sides(template: dict[str, str]) -> dict[str, str]:
    """{'Shoulder': 'Left{}Shoulder'}-style templates → Bandai name → vocabulary name for both sides."""
    out = {}
    for bandai, fmt in template.items():
        for b_side, side, s in (("L", "Left", "L"), ("R", "Right", "R")):
            out[f"{bandai}_{b_side}"] = fmt.format(Side=side, S=s, side=side.lower(), s=s.lower())
    return out


def _mocap_limbs(toe: str) -> dict[str, str]:
    """The common mocap limb names (Mixamo, CMU, LAFAN1, Neuron, Geno): LeftShoulder = clavicle,
    LeftArm, LeftForeArm, LeftHand, LeftUpLeg, LeftLeg, LeftFoot, Left<toe>."""
    return _sides({"Shoulder": "{Side}Shoulder", "UpperArm": "{Side}Arm", "LowerArm": "{Side}ForeArm",
                   "Hand": "{Side}Hand", "UpperLeg": "{Side}UpLeg", "LowerLeg": "{Side}Leg", "Foot": "{Side}Foot",
                   "Toes": "{Side}" + toe})


def _biovision_limbs() -> dict[str, str]:
    """MocapBank/Biovision and Xsens MVN BVH limb names: LeftCollar = clavicle, LeftShoulder = upper arm."""
    return _sides({"Shoulder": "{Side}Collar", "UpperArm": "{Side}Shoulder", "LowerArm": "{Side}Elbow",
                   "Hand": "{Side}Wrist", "UpperLeg": "{Side}Hip", "LowerLeg": "{Side}Knee", "Foot": "{Side}Ankle",
                   "Toes": "{Side}Toe"})


def mixamo(s: Skel, prefix: str = "mixamorig:") -> Skel:
    rename(s, {"Chest": "Spine2", **_mocap_limbs("ToeBase")}, prefix)
    insert_above(s, prefix + "Spine2", prefix + "Spine1")
    add_leaf(s, prefix + "Head", prefix + "HeadTop_End", [18.0, 0, 0])
    add_leaf(s, prefix + "Head", prefix + "LeftEye", [8.0, 3.0, 5.0])
    add_leaf(s, prefix + "Head", prefix + "RightEye", [8.0, 3.0, -5.0])
    for side in ("Left", "Right"):
        add_fingers(s, prefix + f"{side}Hand", [prefix + f"{side}Hand{f}" + "{}" for f in
                                                ("Thumb", "Index", "Middle", "Ring", "Pinky")])
        add_leaf(s, prefix + f"{side}ToeBase", prefix + f"{side}Toe_End", [6.0, 0, 0])
    return s


def xsens(s: Skel, prop: bool = False) -> Skel:
    rename(s, {"Hips": "Pelvis", "Spine": "L5", "Chest": "T8",
               **_sides({"Shoulder": "{Side}Shoulder", "UpperArm": "{Side}UpperArm", "LowerArm": "{Side}ForeArm",
                         "Hand": "{Side}Hand", "UpperLeg": "{Side}UpperLeg", "LowerLeg": "{Side}LowerLeg",
                         "Foot": "{Side}Foot", "Toes": "{Side}Toe"})})
    insert_above(s, "T8", "L3")
    insert_above(s, "T8", "T12")
    if prop:
        add_leaf(s, "RightHand", "Prop1", [12.0, 0.0, 0.0])
    return s


def xsens_mvn(s: Skel, prop: bool = True) -> Skel:
    """Xsens MVN's own BVH export: Chest..Chest4, RightCollar = clavicle, RightShoulder = upper arm,
    an optional Prop1 joint under a wrist."""
    rename(s, {"Spine": "Chest", "Chest": "Chest4",
               **_biovision_limbs()})
    for n in ("Chest2", "Chest3"):
        insert_above(s, "Chest4", n)
    if prop:
        add_leaf(s, "LeftWrist", "Prop1", [10.0, 2.0, 0.0])
    return s


def cmu(s: Skel) -> Skel:
    rename(s, {"Spine": "LowerBack", "Chest": "Spine1", **_mocap_limbs("ToeBase")})
    insert_above(s, "Spine1", "Spine")
    insert_above(s, "Head", "Neck1")
    for side, s_ in (("Left", "L"), ("Right", "R")):
        insert_above(s, f"{side}UpLeg", f"{s_}HipJoint")
        add_leaf(s, f"{side}Hand", f"{side}FingerBase", [4.0, 0, 0])
        add_leaf(s, f"{side}FingerBase", f"{side}HandIndex1", [3.0, 0, 0])
        add_leaf(s, f"{side}Hand", f"{s_}Thumb", [3.0, 2.0, 0])
    return s


def lafan1(s: Skel) -> Skel:
    rename(s, {"Chest": "Spine2", **_mocap_limbs("Toe")})
    insert_above(s, "Spine2", "Spine1")
    return s


def neuron(s: Skel) -> Skel:
    rename(s, {"Chest": "Spine3", **_mocap_limbs("Toe")})
    insert_above(s, "Spine3", "Spine1")
    insert_above(s, "Spine3", "Spine2")
    for side in ("Left", "Right"):
        add_fingers(s, f"{side}Hand", [f"{side}HandThumb" + "{}", f"{side}InHandIndex{{}}", f"{side}HandIndex{{}}",
                                       f"{side}InHandMiddle{{}}", f"{side}HandMiddle{{}}"])
    return s


def biovision(s: Skel) -> Skel:
    """MocapBank/Biovision: LeftCollar is the clavicle and LeftShoulder the upper arm."""
    rename(s, {"Spine": "Chest", "Chest": "Chest2",
               **_biovision_limbs()})
    s.leaves = [(s.index(f"{side}Wrist"), np.array([8.0, 0, 0])) for side in ("Left", "Right")]
    return s


def smpl_named(s: Skel) -> Skel:
    """SMPL joint names, a root above the pelvis and zero-length dummy joints."""
    rename(s, {"Hips": "Pelvis", "Spine": "Spine1", "Chest": "Spine3",
               **_sides({"Shoulder": "{S}_Collar", "UpperArm": "{S}_Shoulder", "LowerArm": "{S}_Elbow",
                         "Hand": "{S}_Wrist", "UpperLeg": "{S}_Hip", "LowerLeg": "{S}_Knee",
                         "Foot": "{S}_Ankle", "Toes": "{S}_Foot"})})
    insert_above(s, "Spine3", "Spine2")
    add_root(s, "m_avg_root")
    for S in ("L", "R"):
        insert_above(s, f"{S}_Ankle", f"{S}_Knee_dummy")
        insert_above(s, f"{S}_Hip", f"{S}_Hip_dummy")
        add_leaf(s, f"{S}_Wrist", f"{S}_Hand", [8.0, 0, 0])
    return s


def geno(s: Skel) -> Skel:
    """Geno/ZeroEGGS-like: Spine..Spine3, Neck1, HeadEnd, twist joints part-way along the forearms."""
    rename(s, {"Chest": "Spine3", **_mocap_limbs("ToeBase")})
    for n in ("Spine1", "Spine2"):
        insert_above(s, "Spine3", n)
    insert_above(s, "Head", "Neck1")
    add_leaf(s, "Head", "HeadEnd", [18.0, 0, 0])
    for side in ("Left", "Right"):
        insert_above(s, f"{side}Hand", f"{side}ForeArmTwist", fraction=0.5)
        add_fingers(s, f"{side}Hand", [f"{side}Hand{f}" + "{}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky")])
        add_leaf(s, f"{side}ToeBase", f"{side}ToeBaseEnd", [6.0, 0, 0])
    return s


def biped(s: Skel) -> Skel:
    """3ds Max Biped names with spaces ('Bip01 L Thigh')."""
    rename(s, {"Hips": "Bip01 Pelvis", "Spine": "Bip01 Spine", "Chest": "Bip01 Spine1", "Neck": "Bip01 Neck",
               "Head": "Bip01 Head",
               **_sides({"Shoulder": "Bip01 {S} Clavicle", "UpperArm": "Bip01 {S} UpperArm",
                         "LowerArm": "Bip01 {S} Forearm", "Hand": "Bip01 {S} Hand", "UpperLeg": "Bip01 {S} Thigh",
                         "LowerLeg": "Bip01 {S} Calf", "Foot": "Bip01 {S} Foot", "Toes": "Bip01 {S} Toe0"})})
    return s


def nameless(s: Skel) -> Skel:
    """No name evidence at all: sides must come from the geometry."""
    rename(s, {n: f"j{i:02d}" for i, n in enumerate(s.names)})
    return s


VOCABULARIES = {"mixamo": mixamo, "mixamo7": lambda s: mixamo(s, "mixamorig7:"), "xsens": xsens,
                "xsens_prop": lambda s: xsens(s, prop=True), "xsens_mvn": xsens_mvn, "cmu": cmu, "lafan1": lafan1, "neuron": neuron,
                "biovision": biovision, "smpl_named": smpl_named, "geno": geno, "biped": biped,
                "nameless": nameless}

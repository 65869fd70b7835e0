"""Coverage corpus: a real Bandai clip re-encoded in every BVH vocabulary and convention users
bring must retarget to the same G1 motion as the original (every body within 2 cm, every frame),
with the roles found from the tree itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
from mimiclab.retarget.sources.bvh import read_bvh

import bvh_corpus as bc

FRAMES = 60
TOLERANCE_M = 0.02

# name: (clip, vocabulary, units (m per unit) or None = cm, world change, write options)
VARIANTS = {
    "mixamo": ("walk", "mixamo", None, None, {}),
    "mixamo7_m_zup": ("walk", "mixamo7", 1.0, "zup", {"order": "XYZ"}),
    "mixamo_left_handed": ("walk", "mixamo", None, "mirror", {}),
    "xsens_mm_zup": ("walk", "xsens", 0.001, "zup", {"order": "ZYX"}),
    "xsens_prop": ("run", "xsens_prop", None, None, {"order": "YXZ"}),
    "xsens_mvn_prop_zup": ("run", "xsens_mvn", None, "zup", {"order": "ZXY"}),
    "cmu_units": ("walk", "cmu", bc.CMU_UNIT, None, {"order": "ZYX", "root_order": "ZYX"}),
    "cmu_run_units": ("run", "cmu", bc.CMU_UNIT, None, {"order": "ZYX"}),
    "lafan1_crlf_inch": ("walk", "lafan1", 0.0254, None, {"order": "ZYX", "all_positions": True, "newline": "\r\n"}),
    "neuron": ("run", "neuron", None, None, {"order": "YXZ"}),
    "biovision_spaces": ("walk", "biovision", 0.0254, None, {"order": "ZXY", "indent": "  "}),
    "smpl_named_dummies": ("walk", "smpl_named", 1.0, None, {"order": "XZY"}),
    "smpl_named_dummies_zup": ("run", "smpl_named", None, "zup", {}),
    "geno_twist": ("run", "geno", None, None, {"order": "YZX"}),
    "biped_spaces_in_names": ("walk", "biped", None, "zup", {}),
    "nameless": ("walk", "nameless", None, None, {}),
    "nameless_x_up": ("run", "nameless", 0.001, "xup", {}),
    "mixamo_dash": ("dash", "mixamo7", None, None, {"order": "ZYX"}),
    "cmu_bow_units": ("bow", "cmu", bc.CMU_UNIT, "zup", {"order": "ZYX"}),
    "biovision_punch_left_handed": ("punch", "biovision", 0.0254, "mirror", {}),
    "nameless_raise_hand": ("raise_hand", "nameless", None, None, {"order": "YZX"}),
    "neuron_dash_m": ("dash", "neuron", 1.0, None, {}),
}


_need = bc.shared_clip


def _encode(clip: str, vocabulary: str | None, units, world, options: dict, path: Path) -> Path:
    s = bc.load_bandai(_need(clip), FRAMES)
    if vocabulary:
        bc.VOCABULARIES[vocabulary](s)
    if units is not None:
        bc.scale_units(s, units)
    if world == "zup":
        bc.rotate_world(s, bc.Y_UP_TO_Z_UP)
    elif world == "xup":
        bc.rotate_world(s, bc.Y_UP_TO_X_UP)
    elif world == "mirror":
        bc.mirror_world(s)
    return bc.write(s, path, **options)


_REFERENCES: dict[str, object] = {}


def _reference(clip: str, tmp_path_factory):
    if clip not in _REFERENCES:
        path = _encode(clip, None, None, None, {}, tmp_path_factory.mktemp("ref") / f"{clip}.bvh")
        _REFERENCES[clip] = retarget_human(read_bvh(path), RetargetSettings(fps=30.0)).motion
    return _REFERENCES[clip]


def test_generator_keeps_the_original_joint_positions(tmp_path):
    """The re-encoding itself is exact: the Bandai-named rewrite reads back to the file's positions,
    and a vocabulary with inserted joints keeps every original joint where it was."""
    original = read_bvh(_need("walk"))
    plain = read_bvh(_encode("walk", None, None, None, {}, tmp_path / "plain.bvh"))
    geno = read_bvh(_encode("walk", "geno", None, None, {"order": "YZX"}, tmp_path / "geno.bvh"))
    for name, geno_name in (("Hips", "Hips"), ("Hand_L", "LeftHand"), ("Toes_R", "RightToeBase"),
                            ("Head", "Head"), ("LowerArm_R", "RightForeArm")):
        want = original.positions[:FRAMES, original.joint_names.index(name)]
        np.testing.assert_allclose(plain.positions[:, plain.joint_names.index(name)], want, atol=1e-3)
        np.testing.assert_allclose(geno.positions[:, geno.joint_names.index(geno_name)], want, atol=1e-3)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_retargets_like_the_original(variant, tmp_path, tmp_path_factory):
    clip, vocabulary, units, world, options = VARIANTS[variant]
    path = _encode(clip, vocabulary, units, world, options, tmp_path / f"{variant}.bvh")
    human = read_bvh(path)
    result = retarget_human(human, RetargetSettings(fps=30.0))
    ref = _reference(clip, tmp_path_factory)
    got = result.motion.select(ref.joint_names, ref.body_names)
    assert got.num_frames == ref.num_frames
    err = np.linalg.norm(np.asarray(got.body_pos_w) - np.asarray(ref.body_pos_w), axis=-1)  # (T,B)
    worst = int(np.argmax(err.max(axis=0)))
    assert err.max() < TOLERANCE_M, f"{variant}: {ref.body_names[worst]} off by {err.max() * 100:.2f} cm"
    info = result.motion.meta["normalisation"]
    assert info["skeleton_map"] == "inferred"
    assert info["mirrored"] == (world == "mirror")
    if units is not None:
        assert info["unit_scale"] == pytest.approx(units)


def test_roles_found_in_each_vocabulary(tmp_path):
    """The joints each vocabulary calls thigh/upper arm etc. get the roles (clavicles, hip bones,
    dummies and twist joints do not)."""
    from mimiclab.retarget.skeleton_infer import infer_skeleton

    expect = {
        "biovision": {"left_shoulder": "LeftShoulder", "left_elbow": "LeftElbow", "left_wrist": "LeftWrist",
                      "left_hip": "LeftHip", "right_ankle": "RightAnkle"},
        "mixamo": {"left_shoulder": "mixamorig:LeftArm", "right_toe": "mixamorig:RightToeBase",
                   "head": "mixamorig:Head", "pelvis": "mixamorig:Hips"},
        "cmu": {"left_hip": "LeftUpLeg", "right_shoulder": "RightArm", "left_wrist": "LeftHand"},
        "smpl_named": {"left_knee": "L_Knee", "left_ankle": "L_Ankle", "left_wrist": "L_Wrist", "pelvis": "Pelvis"},
        "geno": {"right_elbow": "RightForeArm", "right_wrist": "RightHand", "head": "Head"},
        "xsens_prop": {"right_wrist": "RightHand", "right_shoulder": "RightUpperArm"},
        "xsens_mvn": {"left_shoulder": "LeftShoulder", "left_wrist": "LeftWrist", "left_toe": "LeftToe"},
    }
    for vocabulary, roles in expect.items():
        human = read_bvh(_encode("walk", vocabulary, None, None, {}, tmp_path / f"{vocabulary}.bvh"))
        found = infer_skeleton(human.joint_names, human.parents, human.positions, vocabulary)
        for role, name in roles.items():
            assert found.roles[role] == name, (vocabulary, role, found.roles[role])


def _quadruped_bvh(path: Path) -> Path:
    """A dog-like tree with mocap names (as the MANN dog set has): hind legs from the hips, a
    level spine, front legs from the chest, neck, head and tail; cm, Y up."""
    from mimiclab.retarget.sources.bvh import write_bvh

    joints = [("Hips", -1, [0, 50, 0]), ("Spine", 0, [15, 0, 0]), ("Spine1", 1, [25, 0, 0]),
              ("Neck", 2, [12, 8, 0]), ("Head", 3, [10, 6, 0])]
    for side, z in (("Left", 8.0), ("Right", -8.0)):
        base = len(joints)
        joints += [(f"{side}Shoulder", 2, [5, -5, z]), (f"{side}Arm", base, [0, -10, 0]),
                   (f"{side}ForeArm", base + 1, [0, -15, 0]), (f"{side}Hand", base + 2, [0, -15, 0])]
    for side, z in (("Left", 8.0), ("Right", -8.0)):
        base = len(joints)
        joints += [(f"{side}UpLeg", 0, [-3, -2, z]), (f"{side}Leg", base, [2, -18, 0]),
                   (f"{side}Foot", base + 1, [-3, -17, 0]), (f"{side}Toe", base + 2, [4, -12, 0])]
    joints.append(("Tail", 0, [-10, 2, 0]))
    names = [n for n, _, _ in joints]
    par = np.array([p for _, p, _ in joints])
    offs = np.array([o for _, _, o in joints], float)
    channels = [["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]] + \
        [["Zrotation", "Xrotation", "Yrotation"]] * (len(names) - 1)
    values = np.zeros((4, 3 + 3 * len(names)))
    values[:, :3] = offs[0]
    values[:, 0] = np.arange(4) * 2.0
    return write_bvh(path, names, par, offs, channels, values, 1 / 30)


def test_quadruped_and_chain_are_refused(tmp_path):
    """A four-legged tree (level spine, front feet on the ground) and a plain chain are not a human
    body: one line, and the name maps do not take over."""
    from mimiclab.retarget.skeleton_infer import infer_skeleton

    dog = read_bvh(_quadruped_bvh(tmp_path / "dog.bvh"))
    with pytest.raises(ValueError, match="not a biped"):
        retarget_human(dog, RetargetSettings(fps=30.0))
    chain = np.cumsum(np.tile([0.0, 10.0, 0.0], (5, 4, 1)), axis=1)
    with pytest.raises(ValueError, match="no human body"):
        infer_skeleton(["a", "b", "c", "d"], np.array([-1, 0, 1, 2]), chain, "chain.bvh")

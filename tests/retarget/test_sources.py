"""BVH reader/writer and format detection (mimiclab.retarget.sources)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mimiclab.retarget.sources.bvh import bvh_channel_values, read_bvh, write_bvh
from mimiclab.retarget.sources.detect import detect_format, load_human_motion, sniff_format
from mimiclab.retarget.sources.keypoints import write_keypoints
from mimiclab.retarget.sources.synthetic import YUP_TO_ZUP, synthetic_walk, write_motion_bvh
from mimiclab.rotations.numpy_ops import matrix_about_axis, matrix_from_quat

SHARED_BVH = Path(__file__).resolve().parents[2].parent / "shared/data/bvh"
SHARED_CLIPS = {  # file: (frames, fps), from shared/data/README.md
    "bandai1_walk_normal_001.bvh": (195, 30.0),
    "bandai2_run_elderly_001.bvh": (237, 30.0),
    "bandai2_wave-both-hands_active_001.bvh": (179, 30.0),
}


# --------------------------------------------------------------------------- shared clips

@pytest.mark.parametrize("name", sorted(SHARED_CLIPS))
def test_shared_bandai_clips_parse(name):
    path = SHARED_BVH / name
    if not path.is_file():
        pytest.skip(f"shared clip not found: {path} (the ../shared/data/bvh folder is absent)")
    frames, fps = SHARED_CLIPS[name]
    m = read_bvh(path)
    m.validate()
    assert m.num_frames == frames and m.fps == pytest.approx(fps)
    J = len(m.joint_names)
    assert m.positions.shape == (frames, J, 3) and m.orientations.shape == (frames, J, 4)
    assert m.joint_names[0] == "joint_Root" and m.parents[m.joint_names.index("Hips")] == 0
    assert all(len(c) == 6 for c in m.extra["channels"])  # 6 channels on every joint
    hips, head = m.joint_names.index("Hips"), m.joint_names.index("Head")
    height = m.positions[:, head, 1] - m.positions[:, m.joint_names.index("Toes_L"), 1]
    assert 100.0 < np.median(height) < 200.0  # centimetres, Y up
    assert (m.positions[:, head, 1] > m.positions[:, hips, 1]).all()
    np.testing.assert_allclose(np.linalg.norm(m.orientations, axis=-1), 1.0, atol=1e-12)
    # bone lengths below the hips stay constant over time (rigid skeleton)
    bones = np.linalg.norm(m.positions[:, 2:] - m.positions[:, m.parents[2:]], axis=-1)
    assert np.ptp(bones, axis=0).max() < 1e-6 * max(1.0, bones.max())
    assert m.extra["end_site_positions"].shape == (frames, 5, 3)


# --------------------------------------------------------------------------- hand computation

HAND_BVH = """HIERARCHY
ROOT Root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Child
  {
    OFFSET 1 0 0
    CHANNELS 3 Yrotation Xrotation Zrotation
    JOINT Up
    {
      OFFSET 0 1 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 0 2
      }
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.02
1 2 3 90 0 0 90 0 0 0 0 0
0 0 0 90 90 0 0 0 0 0 0 0
"""


def test_hand_computed_forward_kinematics(tmp_path):
    p = tmp_path / "hand.bvh"
    p.write_text(HAND_BVH)
    m = read_bvh(p)
    assert m.joint_names == ["Root", "Child", "Up"] and list(m.parents) == [-1, 0, 1]
    assert m.fps == pytest.approx(50.0)
    # frame 0: root at (1,2,3) rotated Rz(90); Child = root + Rz90 (1,0,0) = (1,3,3);
    # Child global = Rz90 Ry90; Up = Child + Rz90 Ry90 (0,1,0) = Child + (-1,0,0) = (0,3,3);
    # end site = Up + Rz90 Ry90 (0,0,2) = Up + (0,2,0) = (0,5,3).
    np.testing.assert_allclose(m.positions[0], [[1, 2, 3], [1, 3, 3], [0, 3, 3]], atol=1e-12)
    np.testing.assert_allclose(m.extra["end_site_positions"][0, 0], [0, 5, 3], atol=1e-12)
    # frame 1: intrinsic Z then X (R = Rz90 Rx90): Rz90 Rx90 (1,0,0) = (0,1,0);
    # Rz90 Rx90 (0,1,0) = (0,0,1)  (an extrinsic reading would give (-1,0,0)).
    np.testing.assert_allclose(m.positions[1], [[0, 0, 0], [0, 1, 0], [0, 1, 1]], atol=1e-12)
    expected_root = matrix_about_axis("z", np.pi / 2) @ matrix_about_axis("x", np.pi / 2)
    np.testing.assert_allclose(matrix_from_quat(m.orientations[1, 0]), expected_root, atol=1e-12)


# --------------------------------------------------------------------------- conventions

def _messy(text: str) -> str:
    """CRLF line ends, tabs and extra spaces everywhere."""
    lines = []
    for k, line in enumerate(text.splitlines()):
        line = line.replace(" ", "  \t " if k % 2 else "   ")
        lines.append(("\t " if k % 3 == 0 else "") + line + ("  " if k % 4 == 0 else ""))
    return "\r\n".join(lines) + "\r\n\r\n"


def test_other_convention_gives_the_same_motion(tmp_path):
    """The synthetic walk written (a) in cm, Y up, ZXY, 3-channel joints, and (b) in metres, Z up,
    mixed rotation orders, a moving root above the hips, 6 channels on some joints, end sites, CRLF,
    tabs: both read back to the same global positions and orientations."""
    walk = synthetic_walk(seconds=1.0, fps=30)
    default = read_bvh(write_motion_bvh(tmp_path / "default.bvh", walk))

    C = YUP_TO_ZUP
    bvh = walk.extra["bvh"]
    local = C @ bvh["local_rotations"] @ C.T  # Z-up local rotations
    offsets = bvh["offsets"] @ C.T
    T, J = local.shape[:2]
    # a root joint above the hips with its own (moving) pose: yaw 30 deg + a drift
    t = np.arange(T) / walk.fps
    root_rot = matrix_about_axis("z", np.full(T, np.radians(30.0))) @ matrix_about_axis("x", 0.1 * np.sin(t))
    root_pos = np.stack((0.5 + 0.1 * t, -0.2 * np.ones(T), 0.05 * t), axis=1)
    hips_pos = bvh["root_positions"] @ C.T
    names = ["Root"] + walk.joint_names
    parents = np.concatenate(([-1], walk.parents + 1))
    parents[1] = 0
    translations = np.broadcast_to(np.concatenate(([[0, 0, 0]], offsets)), (T, J + 1, 3)).copy()
    translations[:, 0] = root_pos
    translations[:, 1] = hips_pos  # the whole walk, carried by the root: expected = root · walk
    rotations = np.concatenate((root_rot[:, None], local), axis=1)
    orders = ["XYZ", "YZX", "ZYX", "XZY", "YXZ", "ZXY"]
    channels = [["Zposition", "Xposition", "Yposition", "Yrotation", "Xrotation", "Zrotation"],
                ["Xposition", "Yposition", "Zposition", "Xrotation", "Zrotation", "Yrotation"]]
    for j in range(2, J + 1):
        rot = [f"{a}rotation" for a in orders[j % 6]]
        channels.append(["Yposition", "Xposition", "Zposition"] + rot if j == 2 else rot)
    values = bvh_channel_values(channels, translations, rotations)
    hips_offset = np.concatenate(([[0, 0, 0]], offsets))
    hips_offset[1] = [0.3, 0.4, 0.9]  # ignored: the hips' position channels replace it
    end_sites = [(p + 1, C @ o) for p, o in bvh["end_sites"]]
    plain = write_bvh(tmp_path / "plain.bvh", names, parents, hips_offset, channels, values, 1 / walk.fps,
                      end_sites=end_sites, decimals=9)
    messy = tmp_path / "messy.bvh"
    messy.write_bytes(_messy(plain.read_text()).encode())
    other = read_bvh(messy)
    assert other.joint_names == names and other.num_frames == T
    assert [len(c) for c in other.extra["channels"]][:3] == [6, 6, 6] and len(other.extra["channels"][3]) == 3

    # (a) in metres Z-up, then seen through the moving root
    expected = root_pos[:, None] + np.einsum("tab,tjb->tja", root_rot, (default.positions * 0.01) @ C.T)
    np.testing.assert_allclose(other.positions[:, 1:], expected, atol=1e-6)
    np.testing.assert_allclose(other.positions[:, 0], root_pos, atol=1e-9)
    r_default = root_rot[:, None] @ (C @ matrix_from_quat(default.orientations) @ C.T)
    np.testing.assert_allclose(matrix_from_quat(other.orientations[:, 1:]), r_default, atol=1e-6)
    es_expected = root_pos[:, None] + np.einsum("tab,tjb->tja", root_rot,
                                                (default.extra["end_site_positions"] * 0.01) @ C.T)
    np.testing.assert_allclose(other.extra["end_site_positions"], es_expected, atol=1e-6)


def test_position_channels_add_mode(tmp_path):
    p = tmp_path / "add.bvh"
    p.write_text(HAND_BVH.replace("OFFSET 0 0 0\n  CHANNELS 6", "OFFSET 10 0 0\n  CHANNELS 6"))
    replace, add = read_bvh(p), read_bvh(p, position_mode="add")
    np.testing.assert_allclose(add.positions - replace.positions, np.broadcast_to([10, 0, 0], add.positions.shape))


def test_synthetic_walk_bvh_round_trip(tmp_path):
    walk = synthetic_walk()
    path = write_motion_bvh(tmp_path / "walk.bvh", walk)
    text = path.read_text()
    assert "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" in text
    assert text.count("CHANNELS 3 Zrotation Xrotation Yrotation") == len(walk.joint_names) - 1
    back = read_bvh(path)
    assert back.joint_names == walk.joint_names and back.num_frames == walk.num_frames
    assert back.fps == pytest.approx(walk.fps)
    np.testing.assert_array_equal(back.parents, walk.parents)
    C = YUP_TO_ZUP
    np.testing.assert_allclose((back.positions * 0.01) @ C.T, walk.positions, atol=1e-6)
    np.testing.assert_allclose(C @ matrix_from_quat(back.orientations) @ C.T, matrix_from_quat(walk.orientations),
                               atol=1e-6)
    # the file's own height: about 1.75 m in centimetres
    assert 150 < back.extra["end_site_positions"][:, 0, 1].max() < 180


# --------------------------------------------------------------------------- malformed files

GOOD = HAND_BVH


def _cases():
    lines = GOOD.splitlines()
    return {
        "empty file": "",
        "not bvh": "hello\nworld\n",
        "truncated in hierarchy": GOOD[:GOOD.index("JOINT Up") + 20],
        "truncated before MOTION": GOOD[:GOOD.index("MOTION")],
        "truncated in a row": GOOD[:-12],
        "truncated after Frames": GOOD[:GOOD.index("Frame Time")],
        "missing brace": GOOD.replace("      }\n    }\n  }\n}", "      }\n    }\n  }"),
        "extra brace": GOOD.replace("MOTION", "}\nMOTION"),
        "unknown channel": GOOD.replace("Yrotation Xrotation Zrotation", "Yrotation Wrotation Zrotation"),
        "channel count too large": GOOD.replace("CHANNELS 3 Yrotation", "CHANNELS 7 Yrotation"),
        "missing offset": GOOD.replace("    OFFSET 1 0 0\n", ""),
        "bad offset": GOOD.replace("OFFSET 1 0 0", "OFFSET 1 zero 0"),
        "joint outside": GOOD.replace("ROOT Root", "JOINT Root"),
        "duplicate names": GOOD.replace("JOINT Up", "JOINT Child"),
        "frame count mismatch": GOOD.replace("Frames: 2", "Frames: 5"),
        "more rows than frames": GOOD.replace("Frames: 2", "Frames: 1"),
        "wrong values in a row": "\n".join(lines[:-1] + [lines[-1] + " 7"]) + "\n",
        "NaN values": GOOD.replace("1 2 3 90", "1 nan 3 90"),
        "Inf values": GOOD.replace("1 2 3 90", "1 inf 3 90"),
        "non-numeric value": GOOD.replace("1 2 3 90", "1 two 3 90"),
        "zero frames": "\n".join(lines[:-2]).replace("Frames: 2", "Frames: 0") + "\n",
        "zero frame time": GOOD.replace("Frame Time: 0.02", "Frame Time: 0"),
        "negative frame time": GOOD.replace("Frame Time: 0.02", "Frame Time: -0.02"),
        "bad frames line": GOOD.replace("Frames: 2", "Frames: two"),
        "no channels": "\n".join(ln for ln in lines if "CHANNELS" not in ln) + "\n",
    }


@pytest.mark.parametrize("case", sorted(_cases()))
def test_malformed_bvh_gives_one_line_error_naming_the_file(tmp_path, case):
    p = tmp_path / f"{case.replace(' ', '_')}.bvh"
    p.write_text(_cases()[case])
    with pytest.raises(ValueError) as err:
        read_bvh(p)
    msg = str(err.value)
    assert msg.startswith(str(p) + ": ") and "\n" not in msg, msg
    with pytest.raises(ValueError, match="^" + str(p).replace("\\", "\\\\")):
        load_human_motion(p)


def test_specific_error_messages(tmp_path):
    cases = _cases()

    def err(case):
        p = tmp_path / "x.bvh"
        p.write_text(cases[case])
        with pytest.raises(ValueError) as e:
            read_bvh(p)
        return str(e.value)

    assert "frame count mismatch" in err("frame count mismatch") and "5" in err("frame count mismatch")
    assert "has 13 values, expected 12" in err("wrong values in a row")
    assert "NaN" in err("NaN values")
    assert "zero frames" in err("zero frames")
    assert "frame time" in err("zero frame time")
    assert "truncated" in err("truncated in a row") and "truncated" in err("truncated in hierarchy")
    assert "missing file" not in err("unknown channel") and "Wrotation" in err("unknown channel")
    with pytest.raises(ValueError, match="cannot read|no such file"):
        read_bvh(tmp_path / "missing.bvh")


def test_write_bvh_is_atomic_and_validates(tmp_path):
    out = tmp_path / "w.bvh"
    with pytest.raises(ValueError):
        write_bvh(out, ["a"], np.array([-1]), np.zeros((1, 3)), [["Xrotation"]], np.full((2, 1), np.nan), 0.1)
    assert not out.exists() and not list(tmp_path.iterdir())
    write_bvh(out, ["a"], np.array([-1]), np.zeros((1, 3)), [["Xrotation"]], np.zeros((2, 1)), 0.1)
    assert read_bvh(out).num_frames == 2 and [p.name for p in tmp_path.iterdir()] == ["w.bvh"]


# --------------------------------------------------------------------------- detection

def test_detect_and_load(tmp_path):
    walk = synthetic_walk(seconds=1.0)
    bvh = write_motion_bvh(tmp_path / "w.bvh", walk)
    assert detect_format(bvh) == "bvh" and load_human_motion(bvh).num_frames == 30
    renamed = tmp_path / "w.mocap"
    renamed.write_bytes(bvh.read_bytes())
    assert detect_format(renamed) == "bvh"
    from mimiclab.retarget.sources.synthetic import keypoints_from_motion

    kp = keypoints_from_motion(walk, "coco17")
    npz = write_keypoints(tmp_path / "k.npz", kp)
    js = write_keypoints(tmp_path / "k.json", kp)
    assert detect_format(npz) == detect_format(js) == "keypoints"
    assert load_human_motion(npz).layout == load_human_motion(js, fmt="keypoints").layout == "coco17"

    robot = tmp_path / "robot.npz"
    np.savez(robot, joint_pos=np.zeros((3, 29)), fps=50.0)
    csv = tmp_path / "g1.csv"
    csv.write_text("0,0,0.8,0,0,0,1" + ",0" * 29 + "\n")
    assert sniff_format(robot) == "npz" and sniff_format(csv) == "g1csv"
    for p in (robot, csv):
        with pytest.raises(ValueError, match="mimiclab.motion.load_motion") as e:
            load_human_motion(p)
        assert str(e.value).startswith(str(p))
    with pytest.raises(ValueError, match="load_motion"):
        load_human_motion(bvh, fmt="g1csv")
    other = tmp_path / "notes.txt"
    other.write_text("just text")
    with pytest.raises(ValueError, match=r"BVH \(\.bvh\) and 3D keypoints") as e:
        load_human_motion(other)
    assert str(e.value).startswith(str(other)) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match="no such file"):
        load_human_motion(tmp_path / "absent.bvh")
    with pytest.raises(ValueError, match="unknown format"):
        load_human_motion(bvh, fmt="fbx")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(ValueError, match="not a readable npz") as e:
        load_human_motion(junk)
    assert str(e.value).startswith(str(junk))

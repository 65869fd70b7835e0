"""Motion file I/O: our npz (round trip, determinism, atomic writes, validation), the G1 CSV and
the BeyondMimic / mjlab npz readers."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from mimiclab.motion import MotionData, load_motion, save_motion
from mimiclab.motion.beyondmimic import (ISAAC_G1_BODY_ORDER, ISAAC_G1_JOINT_ORDER, MJLAB_G1_BODY_ORDER,
                                         MJLAB_G1_JOINT_ORDER, save_beyondmimic)
from mimiclab.motion.g1_csv import read_g1_csv, write_g1_csv
from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.robots.g1 import G1

FIELDS = ("joint_pos", "joint_vel", "root_pos_w", "root_quat_w", "body_pos_w", "body_quat_w",
          "body_lin_vel_w", "body_ang_vel_w")


def _trajectory(T=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(T) / 30.0
    root_pos = np.stack([0.3 * t, 0.05 * np.sin(t), 0.78 + 0.01 * np.cos(3 * t)], axis=1)
    yaw = 0.4 * t
    root_quat = np.stack([np.cos(yaw / 2), 0 * t, 0 * t, np.sin(yaw / 2)], axis=1)
    default = np.array([j.default_pos for j in G1.joints])
    lo = np.array([j.lower for j in G1.joints])
    hi = np.array([j.upper for j in G1.joints])
    joint_pos = np.clip(default + 0.2 * np.sin(2 * t[:, None] + rng.uniform(0, 6, 29)), lo, hi)
    return root_pos, root_quat, joint_pos


@pytest.fixture(scope="module")
def motion() -> MotionData:
    m = motion_from_joint_trajectory(*_trajectory(), fps=30.0,
                                     meta={"source": "test", "z": [1, 2.5], "a": {"k": "v"}, "version": 1})
    m.objects = {"object_pos_w": np.linspace(0, 1, 36, dtype=np.float32).reshape(12, 3),
                 "object_name": np.asarray("box"),
                 "object_contact": np.zeros((12, 2), dtype=bool)}
    return m


def _copy(m: MotionData, **changes) -> MotionData:
    from dataclasses import replace

    return replace(m, **{"meta": dict(m.meta), "objects": dict(m.objects), **changes})


def _one_line_error(excinfo, *fragments):
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for f in fragments:
        assert f in msg, (f, msg)


# --------------------------------------------------------------------------------------------
# our npz


def test_round_trip_all_fields(tmp_path, motion):
    path = save_motion(tmp_path / "clip.npz", motion)
    back = load_motion(path)
    assert back.fps == motion.fps and isinstance(back.fps, float)
    assert back.joint_names == list(G1.joint_names) and back.body_names == list(G1.body_names)
    for f in FIELDS:
        got = getattr(back, f)
        assert got.dtype == np.float32, f
        np.testing.assert_array_equal(got, getattr(motion, f).astype(np.float32), err_msg=f)
    assert back.meta == motion.meta
    assert sorted(back.objects) == sorted(motion.objects)
    for k, v in motion.objects.items():
        assert back.objects[k].dtype == v.dtype
        np.testing.assert_array_equal(back.objects[k], v)
    # plain numpy can read it without pickle; meta is a sorted-key JSON string
    with np.load(path, allow_pickle=False) as npz:
        assert npz["fps"].dtype == np.float64 and npz["fps"].shape == ()
        assert npz["meta"].dtype.kind == "U"
        assert str(npz["meta"]).startswith('{"a":')
        assert int(npz["format_version"]) == 1


def test_same_input_same_bytes(tmp_path, motion):
    a = save_motion(tmp_path / "a.npz", motion)
    b = save_motion(tmp_path / "b.npz", _copy(motion, meta=dict(reversed(list(motion.meta.items())))))
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    # float64 and float32 inputs of the same values give the same file
    c = save_motion(tmp_path / "c.npz", _copy(motion, **{f: getattr(motion, f).astype(np.float32) for f in FIELDS}))
    assert a.read_bytes() == c.read_bytes()


def test_atomic_write_keeps_existing_file(tmp_path, motion, monkeypatch):
    path = save_motion(tmp_path / "clip.npz", motion)
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def failing(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # a few members are already written: the failure is mid-file
            raise OSError("disk full (simulated)")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="disk full"):
        save_motion(path, _copy(motion, fps=60.0))
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        save_motion(tmp_path / "new.npz", motion)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.npz"]  # no partial/new/temp file
    assert load_motion(path).fps == 30.0


def _bad_cases(m: MotionData):
    nan = m.joint_pos.copy()
    nan[5, 3] = np.nan
    inf = m.body_lin_vel_w.copy()
    inf[2, 1, 0] = np.inf
    quat = m.body_quat_w.copy()
    quat[4, 7] *= 1.01
    return [
        ("NaN", dict(joint_pos=nan), "joint_pos has NaN or Inf at frame 5"),
        ("Inf", dict(body_lin_vel_w=inf), "body_lin_vel_w has NaN or Inf at frame 2"),
        ("shape T", dict(joint_vel=m.joint_vel[:-1]), "joint_vel has shape (11, 29)"),
        ("shape B", dict(body_pos_w=m.body_pos_w[:, :-1]), "body_pos_w has shape (12, 29, 3)"),
        ("shape J", dict(joint_names=m.joint_names[:-1]), "joint_pos has shape (12, 29), expected (12, 28)"),
        ("dtype", dict(root_pos_w=m.root_pos_w.astype(np.int64)), "root_pos_w must be float32 or float64"),
        ("quat", dict(body_quat_w=quat), "body_quat_w is not a unit quaternion at frame 4"),
        ("root quat", dict(root_quat_w=m.root_quat_w * 0.5), "root_quat_w is not a unit quaternion"),
        ("dup names", dict(joint_names=[m.joint_names[0]] * 2 + m.joint_names[2:]), "duplicate joint names"),
        ("non-str", dict(body_names=[1] + m.body_names[1:]), "body_names must be non-empty strings"),
        ("zero frames", {f: getattr(m, f)[:0] for f in FIELDS}, "zero frames"),
        ("fps 0", dict(fps=0.0), "fps must be finite and > 0"),
        ("fps nan", dict(fps=float("nan")), "fps must be finite and > 0"),
        ("meta", dict(meta={"x": object()}), "meta is not JSON-serialisable"),
        ("meta nan", dict(meta={"x": float("nan")}), "meta is not JSON-serialisable"),
        ("object key", dict(objects={"box": np.zeros(3)}), "must start with 'object_'"),
        ("object dtype", dict(objects={"object_x": np.array([{}], dtype=object)}), "only numeric, bool or str"),
    ]


@pytest.mark.parametrize("case", range(17))
def test_save_rejects_bad_input(tmp_path, motion, case):
    cases = _bad_cases(motion)
    assert len(cases) == 17
    label, changes, message = cases[case]
    path = tmp_path / "bad.npz"
    with pytest.raises(ValueError) as e:
        save_motion(path, _copy(motion, **changes))
    _one_line_error(e, str(path), message)
    assert list(tmp_path.iterdir()) == [], label


def _raw(motion: MotionData, **changes) -> dict:
    arrays = {"fps": np.asarray(motion.fps), "joint_names": np.asarray(motion.joint_names),
              "body_names": np.asarray(motion.body_names), "meta": np.asarray("{}")}
    arrays.update({f: getattr(motion, f).astype(np.float32) for f in FIELDS})
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    return arrays


def test_load_errors(tmp_path, motion):
    def err(path, *fragments, **kw):
        with pytest.raises(ValueError) as e:
            load_motion(path, **kw)
        _one_line_error(e, str(path), *fragments)

    err(tmp_path / "missing.npz", "no such file")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    err(garbage, "unreadable npz")
    truncated = tmp_path / "truncated.npz"
    save_motion(truncated, motion)
    truncated.write_bytes(truncated.read_bytes()[:1000])
    err(truncated, "unreadable npz")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **_raw(motion, meta=np.array([{"a": 1}], dtype=object)))
    err(pickled, "unreadable npz")
    nofield = tmp_path / "nofield.npz"
    np.savez(nofield, **_raw(motion, joint_vel=None))
    err(nofield, "missing field 'joint_vel'")
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    err(other, "not a motion file (fields: a)")
    zero = tmp_path / "zero.npz"
    np.savez(zero, **_raw(motion, **{f: getattr(motion, f)[:0].astype(np.float32) for f in FIELDS}))
    err(zero, "zero frames")
    nan = tmp_path / "nan.npz"
    jp = motion.joint_pos.astype(np.float32)
    jp[7] = np.nan
    np.savez(nan, **_raw(motion, joint_pos=jp))
    err(nan, "joint_pos has NaN or Inf at frame 7")
    badmeta = tmp_path / "badmeta.npz"
    np.savez(badmeta, **_raw(motion, meta=np.asarray("{not json")))
    err(badmeta, "meta is not valid JSON")
    good = save_motion(tmp_path / "good.npz", motion)
    err(good, "unknown joint names ['elbow']", joint_names=["elbow", "waist_yaw_joint"])
    err(good, "unknown layout 'isaac'", layout="isaac")


def test_select_by_name(tmp_path, motion):
    path = save_motion(tmp_path / "clip.npz", motion)
    joints = ["right_knee_joint", "left_knee_joint"]
    bodies = ["torso_link", "pelvis"]
    m = load_motion(path, joint_names=joints, body_names=bodies)
    assert m.joint_names == joints and m.body_names == bodies
    left_knee = G1.joint_names.index("left_knee_joint")
    np.testing.assert_array_equal(m.joint_pos[:, 1], motion.joint_pos[:, left_knee].astype(np.float32))
    np.testing.assert_array_equal(m.body_pos_w[:, 1], m.root_pos_w)


# --------------------------------------------------------------------------------------------
# G1 CSV


def test_g1_csv_round_trip(tmp_path, motion):
    path = write_g1_csv(tmp_path / "clip.csv", motion)
    rows = path.read_text().splitlines()
    assert len(rows) == motion.num_frames and all(len(r.split(",")) == 36 for r in rows)
    back = read_g1_csv(path)
    assert back.fps == 30.0 and back.joint_names == list(G1.joint_names)
    np.testing.assert_allclose(back.joint_pos, motion.joint_pos, atol=1e-7)
    np.testing.assert_allclose(back.root_pos_w, motion.root_pos_w, atol=1e-7)
    np.testing.assert_allclose(back.root_quat_w, motion.root_quat_w, atol=1e-7)
    np.testing.assert_allclose(back.body_pos_w, motion.body_pos_w, atol=1e-6)  # re-FK'd
    assert back.meta["source"] == {"format": "g1csv", "file": "clip.csv"}
    # load_motion dispatches on .csv; fps can be given; a float32 motion round-trips exactly
    m50 = load_motion(path, fps=50.0)
    assert m50.fps == 50.0
    f32 = load_motion(save_motion(tmp_path / "clip.npz", motion))
    again = read_g1_csv(write_g1_csv(tmp_path / "f32.csv", f32))
    np.testing.assert_array_equal(again.joint_pos.astype(np.float32), f32.joint_pos)
    # joints are picked by name: a motion with shuffled joint columns writes the same file
    shuffled = motion.select(list(reversed(G1.joint_names)))
    assert write_g1_csv(tmp_path / "shuffled.csv", shuffled).read_bytes() == path.read_bytes()


def test_g1_csv_whitespace_and_lafan_values(tmp_path):
    row = [0.1, 0.2, 0.79, 0.0, 0.0, 0.0, 1.0] + [0.01 * i for i in range(29)]
    path = tmp_path / "ws.csv"
    path.write_text(" ".join(map(str, row)) + "\n" + "\t".join(map(str, row)) + "\n")
    m = read_g1_csv(path)
    assert m.num_frames == 2
    np.testing.assert_allclose(m.root_quat_w[0], [1, 0, 0, 0])
    np.testing.assert_allclose(m.joint_pos[1], row[7:])


def test_g1_csv_errors(tmp_path, motion):
    good = ",".join(["0"] * 6 + ["1"] + ["0.1"] * 29)

    def err(text, *fragments, name="bad.csv"):
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ValueError) as e:
            load_motion(path)
        _one_line_error(e, str(path), *fragments)

    err(good + "\n" + ",".join(["0"] * 35) + "\n", "line 2 has 35 columns, expected 36")
    err(good + "\n" + good.replace("0.1", "nan", 1) + "\n", "NaN or Inf on line 2")
    header = "x,y,z,qx,qy,qz,qw," + ",".join(["elbow"] + [f"j{i}" for i in range(1, 29)])
    err(header + "\n" + good, "line 1: header has unknown column names 'elbow'")
    err(good.replace("0.1", "abc", 1) + "\n", "line 1 column 8: 'abc' is not a number")
    err("", "zero frames")
    err(",".join(["0"] * 7 + ["0.1"] * 29), "root quaternion (qx qy qz qw) has norm 0")
    with pytest.raises(ValueError) as e:
        read_g1_csv(tmp_path / "absent.csv")
    _one_line_error(e, "absent.csv", "unreadable CSV")
    with pytest.raises(ValueError) as e:
        write_g1_csv(tmp_path / "out.csv", motion.select(G1.joint_names[:-1]))
    _one_line_error(e, "out.csv", "unknown joint names ['right_wrist_yaw_joint']")
    assert not (tmp_path / "out.csv").exists()


# --------------------------------------------------------------------------------------------
# BeyondMimic / mjlab npz


def test_known_orders_match_the_tree(g1_tree):
    """Isaac's order is a breadth-first walk of the G1 tree; mjlab's is MuJoCo's depth-first order."""
    children = {b: [] for b in range(g1_tree.num_bodies)}
    for b, p in enumerate(g1_tree.parent.tolist()):
        if p >= 0:
            children[p].append(b)
    bfs = [0]
    for b in bfs:
        bfs.extend(children[b])
    assert tuple(g1_tree.body_names[b] for b in bfs) == ISAAC_G1_BODY_ORDER
    assert tuple(g1_tree.joint_names[g1_tree.joint_index[b]] for b in bfs[1:]) == ISAAC_G1_JOINT_ORDER
    assert MJLAB_G1_BODY_ORDER == tuple(g1_tree.body_names) and MJLAB_G1_JOINT_ORDER == tuple(g1_tree.joint_names)
    assert sorted(ISAAC_G1_JOINT_ORDER) == sorted(G1.joint_names)
    assert sorted(ISAAC_G1_BODY_ORDER) == sorted(G1.body_names)


def _foreign_npz(path, m: MotionData, joints, bodies):
    """A BeyondMimic/mjlab-style file built by hand: no names, columns in the given order."""
    ji = [m.joint_names.index(n) for n in joints]
    bi = [m.body_names.index(n) for n in bodies]
    np.savez(path, fps=np.array([int(m.fps)]),
             joint_pos=m.joint_pos[:, ji].astype(np.float32), joint_vel=m.joint_vel[:, ji].astype(np.float32),
             **{f: getattr(m, f)[:, bi].astype(np.float32)
                for f in ("body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w")})
    return path


@pytest.mark.parametrize("layout,joints,bodies", [
    ("beyondmimic", ISAAC_G1_JOINT_ORDER, ISAAC_G1_BODY_ORDER),
    ("mjlab", MJLAB_G1_JOINT_ORDER, MJLAB_G1_BODY_ORDER),
])
def test_beyondmimic_npz_maps_by_name(tmp_path, motion, layout, joints, bodies):
    path = _foreign_npz(tmp_path / "bm.npz", motion, joints, bodies)
    m = load_motion(path)
    assert m.meta["source"]["format"] == layout
    assert m.meta["source"]["fk_mean_body_error_m"] < 1e-5
    assert m.fps == 30.0 and m.joint_names == list(G1.joint_names)
    for name in ("left_knee_joint", "waist_pitch_joint", "right_wrist_yaw_joint", "left_shoulder_roll_joint"):
        j = G1.joint_names.index(name)
        np.testing.assert_allclose(m.joint_pos[:, j], motion.joint_pos[:, j], atol=1e-6, err_msg=name)
    np.testing.assert_allclose(m.body_pos_w, motion.body_pos_w, atol=1e-5)
    np.testing.assert_allclose(m.body_lin_vel_w, motion.body_lin_vel_w, atol=1e-3)
    # our own BeyondMimic writer produces the same file layout, and it reads back
    out = save_beyondmimic(tmp_path / "out.npz", m, layout=layout)
    m2 = load_motion(out)
    assert m2.meta["source"]["format"] == layout
    np.testing.assert_allclose(m2.joint_pos, m.joint_pos, atol=1e-6)
    # forcing the layout works too
    assert load_motion(path, layout=layout).meta["source"]["format"] == layout


def test_beyondmimic_npz_errors(tmp_path, motion):
    def err(path, *fragments, **kw):
        with pytest.raises(ValueError) as e:
            load_motion(path, **kw)
        _one_line_error(e, str(path), *fragments)

    rng = np.random.default_rng(1)
    shuffled = _foreign_npz(tmp_path / "shuffled.npz", motion, list(rng.permutation(ISAAC_G1_JOINT_ORDER)),
                            ISAAC_G1_BODY_ORDER)
    err(shuffled, "match no known G1 order")
    full = dict(np.load(_foreign_npz(tmp_path / "full.npz", motion, ISAAC_G1_JOINT_ORDER, ISAAC_G1_BODY_ORDER)))
    cases = {
        "nofps": ({"fps": None}, "missing field 'fps'"),
        "noquat": ({"body_quat_w": None}, "missing field 'body_quat_w'"),
        "23dof": ({"joint_pos": full["joint_pos"][:, :23]}, "joint_pos has 23 columns"),
        "bodies": ({"body_pos_w": full["body_pos_w"][:, :20], "body_quat_w": full["body_quat_w"][:, :20]},
                   "body_pos_w has 20 bodies"),
        "zero": ({k: full[k][:0] for k in ("joint_pos", "body_pos_w", "body_quat_w")}, "zero frames"),
        "frames": ({"joint_pos": full["joint_pos"][:-1]}, "inconsistent frame/body counts"),
        "fps0": ({"fps": np.array([0])}, "fps must be one positive number"),
    }
    for name, (changes, message) in cases.items():
        arrays = dict(full)
        for k, v in changes.items():
            if v is None:
                arrays.pop(k)
            else:
                arrays[k] = v
        path = tmp_path / f"{name}.npz"
        np.savez(path, **arrays)
        err(path, message)
    nan = dict(full)
    nan["joint_pos"] = full["joint_pos"].copy()
    nan["joint_pos"][3, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **nan)
    err(tmp_path / "nan.npz", "joint_pos has NaN or Inf at frame 3")
    # 20 bodies: the joints can still be read when the layout is named
    np.savez(tmp_path / "named.npz", **{**full, "body_pos_w": full["body_pos_w"][:, :20],
                                       "body_quat_w": full["body_quat_w"][:, :20]})
    m = load_motion(tmp_path / "named.npz", layout="beyondmimic")
    np.testing.assert_allclose(m.joint_pos, motion.joint_pos, atol=1e-6)

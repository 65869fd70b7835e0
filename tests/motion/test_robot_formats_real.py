"""Robot motion files as third parties publish them: G1 CSVs with header rows (named, reordered,
wxyz / xyzw, numbered), CRLF / tabs / no final newline, time and frame columns, 60 fps CSVs (with
``fps=`` and the assumed-rate warning), holosoma npz (qpos, a world body, name arrays), and
BeyondMimic npz with int64 / float64 fps arrays; plus their one-line refusals."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mimiclab.motion import MotionData, load_motion, save_motion
from mimiclab.motion.beyondmimic import save_beyondmimic
from mimiclab.motion.g1_csv import SLOT_LABELS, step_rate, write_g1_csv
from mimiclab.motion.input_warning import MotionInputWarning
from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.robots.g1 import G1
from mimiclab.rotations.numpy_ops import wxyz_to_xyzw

J = list(G1.joint_names)


def _walk(fps: float, seconds: float = 3.0, stride_hz: float = 0.9) -> MotionData:
    """A plausible G1 walk: 1.1 m/s forward, 2·stride_hz steps/s, legs and arms in antiphase."""
    t = np.arange(int(round(seconds * fps))) / fps
    phase = 2 * np.pi * stride_hz * t
    yaw = 0.15 * np.sin(0.5 * phase)
    root_pos = np.stack([1.1 * t, 0.03 * np.sin(phase), 0.76 + 0.01 * np.cos(2 * phase)], axis=1)
    root_quat = np.stack([np.cos(yaw / 2), 0 * t, 0 * t, np.sin(yaw / 2)], axis=1)
    q = np.tile([j.default_pos for j in G1.joints], (t.size, 1))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        s = sign * np.sin(phase)
        q[:, J.index(f"{side}_hip_pitch_joint")] += 0.45 * s
        q[:, J.index(f"{side}_knee_joint")] += 0.5 * np.maximum(0.0, -s)
        q[:, J.index(f"{side}_ankle_pitch_joint")] += 0.2 * s
        q[:, J.index(f"{side}_shoulder_pitch_joint")] -= 0.3 * s
        q[:, J.index(f"{side}_elbow_joint")] += 0.1 * np.cos(phase)
    q[:, J.index("waist_yaw_joint")] = 0.1 * np.sin(phase)
    lo, hi = np.array([j.lower for j in G1.joints]), np.array([j.upper for j in G1.joints])
    return motion_from_joint_trajectory(root_pos, root_quat, np.clip(q, lo, hi), fps=fps)


@pytest.fixture(scope="module")
def walk30() -> MotionData:
    return _walk(30.0)


@pytest.fixture(scope="module")
def walk60() -> MotionData:
    return _walk(60.0)


def _same(m: MotionData, ref: MotionData, fps: float | None = None):
    assert m.joint_names == ref.joint_names and m.body_names == ref.body_names
    assert m.fps == (ref.fps if fps is None else fps)
    np.testing.assert_allclose(m.joint_pos, ref.joint_pos, atol=1e-6)
    np.testing.assert_allclose(m.root_pos_w, ref.root_pos_w, atol=1e-6)
    np.testing.assert_allclose(m.root_quat_w, ref.root_quat_w, atol=1e-6)
    np.testing.assert_allclose(m.body_pos_w, ref.body_pos_w, atol=1e-5)


def _quiet_load(path, **kw) -> MotionData:
    """load_motion that fails on any input warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", MotionInputWarning)
        return load_motion(path, **kw)


def _refused(path, *fragments, **kw):
    with pytest.raises(ValueError) as e:
        load_motion(path, **kw)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(path)), msg
    for f in fragments:
        assert f in msg, (f, msg)
    return msg


def _slot_values(m: MotionData) -> np.ndarray:
    """(T, 36) in the standard slot order: x y z qx qy qz qw + G1 joints."""
    q = np.asarray(m.root_quat_w, dtype=np.float64)
    return np.concatenate([m.root_pos_w, wxyz_to_xyzw(q), m.select(J).joint_pos], axis=1)


def _write_table(path, labels, values, sep=",", newline="\n", final_newline=True):
    rows = [sep.join(labels)] if labels is not None else []
    rows += [sep.join("%.9g" % v for v in row) for row in values.tolist()]
    path.write_bytes((newline.join(rows) + (newline if final_newline else "")).encode("ascii"))
    return path


# --------------------------------------------------------------------------------------------
# G1 CSV with a header row

_ROOT_STYLES = {
    "plain": ("x", "y", "z", "qx", "qy", "qz", "qw"),
    "base": ("base_x", "base_y", "base_z", "base_qx", "base_qy", "base_qz", "base_qw"),
    "root_pos": ("root_pos_x", "root_pos_y", "root_pos_z", "root_quat_x", "root_quat_y", "root_quat_z",
                 "root_quat_w"),
    "Title": ("Root X", "Root Y", "Root Z", "Quat X", "Quat Y", "Quat Z", "Quat W"),
}


@pytest.mark.parametrize("style,suffix,order,sep", [
    ("plain", "_joint", "standard", ","),       # names = the standard order
    ("base", "", "wxyz", ","),                  # base_qw first, joints without '_joint'
    ("root_pos", "_joint", "shuffled", "\t"),   # every column shuffled, tab separated
    ("Title", "", "reversed", " "),             # 'Quat W' etc., joints reversed, spaces
])
def test_named_header_maps_by_name(tmp_path, walk30, style, suffix, order, sep):
    labels = list(_ROOT_STYLES[style]) + [n.removesuffix("_joint") + suffix for n in J]
    if sep == " ":
        labels = [lab.replace(" ", "_") for lab in labels]
    values = _slot_values(walk30)
    cols = list(range(36))
    if order == "wxyz":
        cols = [0, 1, 2, 6, 3, 4, 5] + cols[7:]
    elif order == "shuffled":
        cols = list(np.random.default_rng(3).permutation(36))
    elif order == "reversed":
        cols = cols[:7] + cols[7:][::-1]
    path = _write_table(tmp_path / "h.csv", [labels[c] for c in cols], values[:, cols], sep=sep)
    _same(_quiet_load(path, fps=30), walk30)


@pytest.mark.parametrize("labels", [
    [str(i) for i in range(36)],                                     # pandas DataFrame.to_csv(index=False)
    list(SLOT_LABELS[:7]) + [f"j{i}" for i in range(29)],            # named root, numbered joints
    [f"col_{i + 1}" for i in range(36)],
])
def test_numbered_header_is_positional(tmp_path, walk30, labels):
    path = _write_table(tmp_path / "n.csv", labels, _slot_values(walk30))
    _same(_quiet_load(path, fps=30), walk30)


def test_frame_column_is_dropped(tmp_path, walk30):
    values = _slot_values(walk30)
    frames = np.arange(len(values), dtype=np.float64)[:, None]
    path = _write_table(tmp_path / "f.csv", ["frame"] + list(SLOT_LABELS), np.hstack([frames, values]))
    _same(_quiet_load(path, fps=30), walk30)
    # pandas with its index: an empty first header name
    path = _write_table(tmp_path / "pd.csv", [""] + [str(i) for i in range(36)], np.hstack([frames, values]))
    _same(_quiet_load(path, fps=30), walk30)


@pytest.mark.parametrize("newline,final,sep,header", [
    ("\r\n", True, ",", False), ("\n", False, ",", False), ("\n", True, "\t", False),
    ("\r\n", False, ",", True), ("\n", True, "\t", True),
])
def test_line_endings_and_separators(tmp_path, walk30, newline, final, sep, header):
    labels = list(SLOT_LABELS) if header else None
    path = _write_table(tmp_path / "e.csv", labels, _slot_values(walk30), sep=sep, newline=newline,
                        final_newline=final)
    _same(_quiet_load(path, fps=30), walk30)


# --------------------------------------------------------------------------------------------
# frame rate: fps=, time columns, the assumed-rate warning


def test_60fps_csv_with_and_without_fps(tmp_path, walk30, walk60):
    path = write_g1_csv(tmp_path / "walk60.csv", walk60)
    _same(_quiet_load(path, fps=60), walk60)
    _same(_quiet_load(path, fps=60.0, layout="g1csv"), walk60)
    with pytest.warns(MotionInputWarning) as rec:
        slow = load_motion(path)
    msg = str(rec[0].message)
    assert msg.startswith(str(path)) and "\n" not in msg
    assert "30 fps was assumed" in msg and "--source-fps 60" in msg
    assert slow.fps == 30.0  # the assumed rate is not changed silently
    np.testing.assert_allclose(slow.joint_pos, walk60.joint_pos, atol=1e-6)
    # the statistic: steps per second at the file's rate vs at half of it
    assert 1.7 < step_rate(walk60) < 1.9 and step_rate(slow) < 1.0
    # a 30 fps file of the same walk gives no warning
    _same(_quiet_load(write_g1_csv(tmp_path / "walk30.csv", walk30)), walk30)


def test_standing_clip_gives_no_rate_warning(tmp_path, walk60):
    still = motion_from_joint_trajectory(np.tile(walk60.root_pos_w[:1], (180, 1)),
                                         np.tile(walk60.root_quat_w[:1], (180, 1)),
                                         np.tile(walk60.joint_pos[:1], (180, 1)), fps=60.0)
    assert _quiet_load(write_g1_csv(tmp_path / "still.csv", still)).fps == 30.0


@pytest.mark.parametrize("name,scale,fmt", [("time", 1.0, "%.4f"), ("timestamp", 1.0, "%.9g"),
                                            ("time_ms", 1e3, "%.3f")])
def test_time_column_gives_the_rate(tmp_path, walk60, name, scale, fmt):
    values = _slot_values(walk60)
    t = np.arange(len(values)) / 60.0 * scale
    lines = [",".join([name] + list(SLOT_LABELS))]
    lines += [",".join([fmt % ti] + ["%.9g" % v for v in row]) for ti, row in zip(t, values.tolist())]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    _same(_quiet_load(path), walk60)
    # a given fps wins over the time column, with a warning
    with pytest.warns(MotionInputWarning, match="time column says 60 fps but fps=50 was given"):
        assert load_motion(path, fps=50).fps == 50.0


def test_time_column_errors_and_irregular(tmp_path, walk60):
    values = _slot_values(walk60)[:20]
    t = np.arange(20) / 60.0

    def write(times, name):
        path = tmp_path / name
        _write_table(path, ["time"] + list(SLOT_LABELS), np.hstack([times[:, None], values]))
        return path

    back = t.copy()
    back[7] = back[5]
    _refused(write(back, "back.csv"), "line 9: the time column goes backwards")
    rep = t.copy()
    rep[4] = rep[3]
    _refused(write(rep, "rep.csv"), "line 6: the time column repeats")
    gap = np.concatenate([t[:10], t[10:] + 0.2])  # dropped frames
    with pytest.warns(MotionInputWarning, match="time column is irregular"):
        assert load_motion(write(gap, "gap.csv")).fps == pytest.approx(60.0, rel=1e-4)


def test_given_fps_overrides_npz_rates(tmp_path, walk30):
    ours = save_motion(tmp_path / "ours.npz", walk30)
    with pytest.warns(MotionInputWarning, match="the file says 30 fps but fps=60 was given"):
        m = load_motion(ours, fps=60)
    assert m.fps == 60.0 and m.meta["fps_override"] == {"file": 30.0, "used": 60.0}
    np.testing.assert_allclose(m.joint_vel, 2 * walk30.joint_vel, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(m.joint_pos, walk30.joint_pos.astype(np.float32))
    assert _quiet_load(ours, fps=30).fps == 30.0  # same rate: no warning
    bm = save_beyondmimic(tmp_path / "bm.npz", walk30)
    with pytest.warns(MotionInputWarning, match="fps=60 was given"):
        assert load_motion(bm, fps=60).fps == 60.0
    for bad in (0, -30, float("nan"), "fast"):
        _refused(ours, "fps must be a positive number", fps=bad)


# --------------------------------------------------------------------------------------------
# npz: BeyondMimic fps arrays, holosoma


@pytest.mark.parametrize("fps", [np.array([30], dtype=np.int64), np.array(30.0), np.array([[30.0]]),
                                 np.array([30], dtype=np.int32)])
def test_beyondmimic_fps_arrays(tmp_path, walk30, fps):
    path = save_beyondmimic(tmp_path / "bm.npz", walk30)
    arrays = dict(np.load(path, allow_pickle=False))
    np.savez(path, **{**arrays, "fps": fps})
    m = _quiet_load(path)
    assert isinstance(m.fps, float)
    _same(m, walk30)


@pytest.mark.parametrize("fps", [np.array([0]), np.array([np.nan]), np.array([-30.0]), np.array([30, 60]),
                                 np.array(["30"])])
def test_bad_fps_arrays_are_refused(tmp_path, walk30, fps):
    path = save_beyondmimic(tmp_path / "bm.npz", walk30)
    arrays = dict(np.load(path, allow_pickle=False))
    np.savez(path, **{**arrays, "fps": fps})
    _refused(path, "fps must be one positive number")
    ours = save_motion(tmp_path / "ours.npz", walk30)
    arrays = dict(np.load(ours, allow_pickle=False))
    np.savez(ours, **{**arrays, "fps": fps})
    _refused(ours, "fps must be one positive number")


_EXTRA_BODIES = [f"extra_{i}_link" for i in range(20)]  # holosoma's model keeps fixed links as bodies


def _holosoma_mj(path, m: MotionData, fps=np.array([30]), joint_names=None, qpos_order=None):
    """A holosoma ``*_mj.npz``: qpos-style joint_pos (T,36), world body first, 51 bodies, names."""
    order = J if qpos_order is None else qpos_order
    quat = np.asarray(m.root_quat_w, dtype=np.float64)
    qpos = np.concatenate([m.root_pos_w, quat, m.select(order).joint_pos], axis=1)
    T = m.num_frames
    world_pos, world_quat = np.zeros((T, 1, 3)), np.tile([1.0, 0, 0, 0], (T, 1, 1))
    torso = m.body_names.index("torso_link")
    extra_pos = m.body_pos_w[:, [torso] * 20] + 0.05
    extra_quat = m.body_quat_w[:, [torso] * 20]
    names = list(order) if joint_names is None else joint_names
    np.savez(path, fps=fps, joint_pos=qpos, joint_vel=np.zeros((T, 35)),
             body_pos_w=np.concatenate([world_pos, m.body_pos_w, extra_pos], axis=1),
             body_quat_w=np.concatenate([world_quat, m.body_quat_w, extra_quat], axis=1),
             body_lin_vel_w=np.zeros((T, 51, 3)), body_ang_vel_w=np.zeros((T, 51, 3)),
             joint_names=np.array(names), body_names=np.array(["world"] + m.body_names + _EXTRA_BODIES))
    return path


def test_holosoma_mj_npz(tmp_path, walk30, walk60):
    path = _holosoma_mj(tmp_path / "walk_mj.npz", walk30)
    assert np.load(path)["body_pos_w"].shape[1] == 51
    m = _quiet_load(path)
    _same(m, walk30)
    assert m.meta["source"]["format"] == "holosoma" and m.meta["source"]["fk_mean_body_error_m"] < 1e-5
    # names without '_joint', qpos columns in another order, fps as float64 (1, 1)
    order = list(np.random.default_rng(5).permutation(J))
    path = _holosoma_mj(tmp_path / "short_names.npz", walk60, fps=np.array([[60.0]]),
                        joint_names=[n.removesuffix("_joint") for n in order], qpos_order=order)
    _same(_quiet_load(path), walk60)
    assert _quiet_load(path, layout="holosoma").fps == 60.0


def test_holosoma_qpos_npz(tmp_path, walk30):
    quat = np.asarray(walk30.root_quat_w, dtype=np.float64)
    qpos = np.concatenate([walk30.root_pos_w, quat, walk30.joint_pos], axis=1)
    np.savez(tmp_path / "q.npz", qpos=qpos, fps=np.float64(30.0))
    _same(_quiet_load(tmp_path / "q.npz"), walk30)
    np.savez(tmp_path / "q60.npz", qpos=qpos)  # no fps: --source-fps gives it
    _same(_quiet_load(tmp_path / "q60.npz", fps=30), walk30)
    with pytest.warns(MotionInputWarning, match="stores no fps; assumed 30 fps"):
        load_motion(tmp_path / "q60.npz")
    np.savez(tmp_path / "dt.npz", qpos=qpos, fps=np.array(1 / 30))  # a frame period, as holosoma reads it
    with pytest.warns(MotionInputWarning, match="read as a frame period"):
        assert load_motion(tmp_path / "dt.npz").fps == pytest.approx(30.0)
    obj = np.concatenate([qpos, np.tile([1.0, 0, 0.4, 1.0, 0, 0, 0], (len(qpos), 1))], axis=1)
    np.savez(tmp_path / "obj.npz", qpos=obj, fps=np.array([30]))
    with pytest.warns(MotionInputWarning, match="an object's pose"):
        _same(load_motion(tmp_path / "obj.npz"), walk30)


# --------------------------------------------------------------------------------------------
# refusals


def test_csv_refusals(tmp_path, walk30):
    values = _slot_values(walk30)[:5]
    p23 = _write_table(tmp_path / "g1_23dof.csv", None, values[:, :30])
    _refused(p23, "line 1 has 30 columns, expected 36", "23-DoF")
    p37 = _write_table(tmp_path / "p37.csv", None, np.hstack([np.arange(5.0)[:, None], values]))
    _refused(p37, "has 37 columns", "needs a header row")
    labels = list(SLOT_LABELS)
    labels[10], labels[20] = "left_elbow_pitch", "mystery"
    _refused(_write_table(tmp_path / "unk.csv", labels, values), "unknown column names 'left_elbow_pitch', 'mystery'")
    named23 = [lab for lab in SLOT_LABELS if "wrist_pitch" not in lab and "wrist_yaw" not in lab
               and lab not in ("waist_roll_joint", "waist_pitch_joint")]
    keep = [SLOT_LABELS.index(lab) for lab in named23]
    _refused(_write_table(tmp_path / "n23.csv", named23, values[:, keep]), "header lacks", "23 of the 29 G1 joints")
    dup = list(SLOT_LABELS)
    dup[8] = "root_z"
    _refused(_write_table(tmp_path / "dup.csv", dup, values), "names 'z' twice")
    _refused(_write_table(tmp_path / "short.csv", [f"j{i}" for i in range(35)], values[:, :35]),
             "header has 35 data columns", "needs 36")
    mixed = [f"j{i}" for i in range(36)]
    mixed[3] = "qw"
    _refused(_write_table(tmp_path / "mixed.csv", mixed, values), "'qw' (column 4) is not in its standard place")
    wrong = _write_table(tmp_path / "rows.csv", list(SLOT_LABELS), values)
    wrong.write_text(wrong.read_text() + ",".join(["0"] * 35) + "\n")
    _refused(wrong, "line 7 has 35 columns, the header has 36")
    _refused(_write_table(tmp_path / "only.csv", list(SLOT_LABELS), values[:0]), "zero frames")


def test_npz_refusals(tmp_path, walk30):
    bm = save_beyondmimic(tmp_path / "bm.npz", walk30)
    arrays = dict(np.load(bm, allow_pickle=False))
    np.savez(tmp_path / "r22.npz", **{**arrays, "joint_pos": arrays["joint_pos"][:, :22]})
    _refused(tmp_path / "r22.npz", "joint_pos has 22 columns", "29-DoF G1")
    quat = np.asarray(walk30.root_quat_w, dtype=np.float64)
    q22 = np.concatenate([walk30.root_pos_w, quat, walk30.joint_pos[:, :22]], axis=1)
    np.savez(tmp_path / "q22.npz", qpos=q22, fps=np.array([30]))
    _refused(tmp_path / "q22.npz", "qpos has 29 columns", "36")
    other = [f"robot_joint_{i}" for i in range(22)]
    np.savez(tmp_path / "named22.npz", qpos=q22, fps=np.array([30]), joint_names=np.array(other))
    _refused(tmp_path / "named22.npz", "joint names not of the 29-DoF G1", "robot_joint_0")
    path = _holosoma_mj(tmp_path / "g1_23.npz", walk30, joint_names=J[:23] + ["a", "b", "c", "d", "e", "f"])
    _refused(path, "joint names not of the 29-DoF G1: a, b, c, d, e, f")
    qpos = np.concatenate([walk30.root_pos_w, quat * 2, walk30.joint_pos], axis=1)
    np.savez(tmp_path / "badquat.npz", qpos=qpos, fps=np.array([30]))
    _refused(tmp_path / "badquat.npz", "not a unit quaternion at frame 0")
    nan = np.concatenate([walk30.root_pos_w, quat, walk30.joint_pos], axis=1)
    nan[4, 10] = np.nan
    np.savez(tmp_path / "nan.npz", qpos=nan, fps=np.array([30]))
    _refused(tmp_path / "nan.npz", "qpos has NaN or Inf at frame 4")

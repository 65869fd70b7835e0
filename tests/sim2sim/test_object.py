"""sim2sim with an object: residual loco-manipulation policies (contract with the 4 object terms) run
in MuJoCo with the clip's object as a free body, observed and scored like the ``Mimic-Residual-*`` task."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mimiclab.sim2sim.metrics import METRIC_UNITS, OBJECT_METRIC, STEP_METRICS
from mimiclab.sim2sim.perturbations import Perturbations
from mimiclab.sim2sim.runner import Sim2SimError, run_sim2sim

ROOT = Path(__file__).resolve().parents[2]
OBJECT_TERMS = (("object_pos", 3), ("object_ori", 6), ("ref_object_pos", 3), ("ref_object_ori", 6))
BOX = (0.30, 0.46, 0.32)  # m, the box of the box_clip fixture (conftest)


@pytest.fixture(scope="module")
def residual_contract(g1_contract):
    """The tracking contract plus the residual task's object terms (266 observations; ref_object_pos needs the
    robot's world position: not proprioceptive)."""
    from mimiclab.deploy.contract import ObservationTerm
    from mimiclab.deploy.tracking_mdp import OBJECT_TERMINATION_THRESHOLDS, term_definition, term_signals

    terms = g1_contract.observations + tuple(ObservationTerm(n, d, 0, term_signals(n), term_definition(n))
                                             for n, d in OBJECT_TERMS)
    c = replace(g1_contract, task="Mimic-Residual-Box-G1", observations=terms,
                termination_thresholds={**g1_contract.termination_thresholds, **OBJECT_TERMINATION_THRESHOLDS},
                reference_inputs=g1_contract.reference_inputs + ("ref_object_pos", "ref_object_ori"),
                proprioceptive=False)
    assert c.observation_dim == 266
    return c


@pytest.fixture(scope="module")
def residual_policy_dir(residual_contract, tmp_path_factory):
    """policy.onnx + contract.json of a small random actor over the 266 observations."""
    import torch

    from mimiclab.deploy.onnx_policy import write_policy_onnx

    torch.manual_seed(0)
    n_in = residual_contract.observation_dim
    mlp = torch.nn.Sequential(torch.nn.Linear(n_in, 32), torch.nn.ELU(),
                              torch.nn.Linear(32, residual_contract.num_actions))
    with torch.no_grad():
        mlp[2].weight.mul_(0.3)
    out = tmp_path_factory.mktemp("residual_policy")
    write_policy_onnx(torch.nn.Identity(), mlp, residual_contract, out)
    return out


@pytest.fixture(scope="module")
def box_carry_clip(tmp_path_factory):
    """The shipped pick-up-and-carry sample (box 0.30×0.42×0.32 m held between the hands)."""
    from mimiclab.retarget.attach_object import make_box_carry_motion

    return make_box_carry_motion(tmp_path_factory.mktemp("box_carry"))


def _episode(policy_dir, clip, name="clip"):
    from mimiclab.deploy.runtime import PolicyRuntime
    from mimiclab.motion.clip_loading import load_clip
    from mimiclab.sim2sim.model import build_model
    from mimiclab.sim2sim.runner import Episode
    from mimiclab.sim2sim.signals import MujocoSignals

    runtime = PolicyRuntime.load(policy_dir)
    ref = runtime.reference(load_clip(clip), name=name)
    model = build_model(runtime.contract, obj=ref.object)
    signals = MujocoSignals(model, runtime.contract)
    return Episode(model, runtime, signals, ref, Perturbations(), np.random.default_rng(0)), model, signals, ref


# ---- observation terms on hand-made states -----------------------------------------------------


def _state(anchor_pos, anchor_quat, obj_pos, obj_quat):
    from mimiclab.deploy.observations import RobotState

    z = np.zeros(29)
    return RobotState(joint_pos=z, joint_vel=z, base_quat_w=np.array([1.0, 0, 0, 0]), base_ang_vel_b=np.zeros(3),
                      anchor_pos_w=np.asarray(anchor_pos, float), anchor_quat_w=np.asarray(anchor_quat, float),
                      object_pos_w=np.asarray(obj_pos, float), object_quat_w=np.asarray(obj_quat, float))


def _ref(obj_pos, obj_quat):
    from mimiclab.deploy.reference import ReferenceStep

    return ReferenceStep(time=0.0, joint_pos=np.zeros(29), joint_vel=np.zeros(29), body_pos_w=np.zeros((1, 3)),
                         body_quat_w=np.array([[1.0, 0, 0, 0]]), anchor_index=0, future_joint_pos=np.zeros((4, 29)),
                         future_anchor_pos_w=np.zeros((4, 3)), future_anchor_quat_w=np.tile([1.0, 0, 0, 0], (4, 1)),
                         object_pos_w=np.asarray(obj_pos, float), object_quat_w=np.asarray(obj_quat, float))


IDENTITY6 = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])  # R[:, :2] row by row of the identity


def test_object_at_the_anchor_observes_zeros_and_identity():
    from mimiclab.deploy.observations import OBJECT_TERM_NAMES, object_observation_terms

    q = np.array([np.cos(0.35), 0.2, -0.3, np.sin(0.35)])
    q /= np.linalg.norm(q)
    p = np.array([0.4, -1.2, 0.9])
    t = object_observation_terms(_state(p, q, p, q), _ref(p, q))
    assert tuple(t) == OBJECT_TERM_NAMES
    np.testing.assert_allclose(t["object_pos"], 0.0, atol=1e-12)
    np.testing.assert_allclose(t["ref_object_pos"], 0.0, atol=1e-12)
    np.testing.assert_allclose(t["object_ori"], IDENTITY6, atol=1e-12)
    np.testing.assert_allclose(t["ref_object_ori"], IDENTITY6, atol=1e-12)


def test_a_quarter_turn_of_the_robot_rotates_the_object_position():
    """Robot yawed +90° at (1, 2, 0.9): an object 0.5 m further along world x is 0.5 m to the
    robot's right (−y); an object with the world orientation reads a −90° yaw relative to the anchor."""
    from mimiclab.deploy.observations import object_observation_terms

    yaw90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    anchor = np.array([1.0, 2.0, 0.9])
    t = object_observation_terms(_state(anchor, yaw90, anchor + [0.5, 0, 0.1], [1.0, 0, 0, 0]),
                                 _ref(anchor + [0, 0.3, 0], yaw90))
    np.testing.assert_allclose(t["object_pos"], [0.0, -0.5, 0.1], atol=1e-12)
    np.testing.assert_allclose(t["ref_object_pos"], [0.3, 0.0, 0.0], atol=1e-12)
    # R = Rz(−90°) = [[0, 1, 0], [−1, 0, 0], [0, 0, 1]]: first two columns row by row
    np.testing.assert_allclose(t["object_ori"], [0.0, 1.0, -1.0, 0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(t["ref_object_ori"], IDENTITY6, atol=1e-12)


def test_the_runtime_observes_the_object_the_contract_names(residual_contract, box_clip):
    """The object's pose enters through the ``object`` signal: a model without the object body is
    refused, a robot without an object tracker is refused, and the terms have the contract's dims."""
    from mimiclab.deploy.contract import ContractError
    from mimiclab.deploy.runtime import PolicyRuntime
    from mimiclab.motion.clip_loading import load_clip
    from mimiclab.motion.objects import object_track
    from mimiclab.sim2sim.model import build_model
    from mimiclab.sim2sim.signals import MujocoSignals

    zero = lambda terms: np.zeros(29, dtype=np.float32)  # noqa: E731
    rt = PolicyRuntime(residual_contract, zero)
    assert rt.observes_object
    model = build_model(residual_contract, obj=object_track(load_clip(box_clip)))
    import mujoco

    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    ref = rt.reference(load_clip(box_clip))
    terms = rt.observe(MujocoSignals(model, residual_contract).robot_state(data), ref.step(0))
    assert [(n, v.size) for n, v in terms.items()][-4:] == list(OBJECT_TERMS)
    assert sum(v.size for v in terms.values()) == 266
    with pytest.raises(ValueError, match="object"):
        MujocoSignals(build_model(residual_contract), residual_contract)
    with pytest.raises(ContractError, match="needs object"):
        PolicyRuntime(residual_contract, zero, available_signals=("joint_pos", "joint_vel", "imu_gyro",
                                                                  "imu_gravity", "base_position", "reference",
                                                                  "last_action"))


# ---- the model and the episode ----------------------------------------------------------------


def test_the_box_is_a_free_body_with_the_clip_mass_size_and_collisions(residual_contract, box_clip):
    import mujoco

    from mimiclab.motion.clip_loading import load_clip
    from mimiclab.motion.objects import object_track
    from mimiclab.sim2sim.model import OBJECT_BODY, ObjectIndex, RobotIndex, build_model

    model = build_model(residual_contract, obj=object_track(load_clip(box_clip)))
    b = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, OBJECT_BODY)
    assert model.body_mass[b] == pytest.approx(2.0)
    g = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, OBJECT_BODY)
    np.testing.assert_allclose(model.geom_size[g], np.array(BOX) / 2)
    assert ObjectIndex(model).body == b
    assert RobotIndex(model, residual_contract.joint_names).root_body != b
    # dropped from 1 m, the box comes to rest on the ground (bottom face at z = 0)
    data = mujoco.MjData(model)
    oi = ObjectIndex(model)
    data.qpos[oi.qpos] = [3.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    for _ in range(600):
        mujoco.mj_step(model, data)
    assert data.xpos[b][2] == pytest.approx(BOX[2] / 2, abs=5e-3)
    # placed on the robot's torso, the box touches robot geoms (the robot's own geoms never touch)
    mujoco.mj_resetData(model, data)
    data.qpos[2] = 0.76
    mujoco.mj_forward(model, data)
    torso = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "torso_link")
    data.qpos[oi.qpos] = [*data.xpos[torso], 1.0, 0.0, 0.0, 0.0]
    mujoco.mj_forward(model, data)
    pairs = {(model.geom_bodyid[c.geom1], model.geom_bodyid[c.geom2]) for c in data.contact[:data.ncon]}
    robot_hits = {a if bb == b else bb for a, bb in pairs if b in (a, bb)} - {0, b}
    assert robot_hits, pairs
    assert all(b in p or 0 in p for p in pairs)


def test_the_box_starts_exactly_at_its_reference_pose(residual_policy_dir, box_carry_clip):
    import mujoco

    ep, model, obs, ref = _episode(residual_policy_dir, box_carry_clip, "box_carry")
    data = mujoco.MjData(model)
    ep.reset(data)
    s0 = ref.step(0)
    assert ep.object_distance(data, s0) < 1e-9
    b = obs.object_index.body
    ep.runtime.reset()
    np.testing.assert_allclose(data.xpos[b], ref.object.pos_w[0], atol=1e-12)
    q = data.xquat[b] * np.sign(data.xquat[b] @ ref.object.quat_w[0])
    np.testing.assert_allclose(q, ref.object.quat_w[0] / np.linalg.norm(ref.object.quat_w[0]), atol=1e-9)
    t = ep.runtime.observe(obs.robot_state(data), s0)
    np.testing.assert_allclose(t["object_pos"], t["ref_object_pos"], atol=1e-9)
    np.testing.assert_allclose(t["object_ori"], t["ref_object_ori"], atol=1e-9)


def test_reference_object_is_interpolated_like_the_robot(box_clip):
    """A 50 fps clip at control_dt 0.03: the object pose between frames is the lerp / slerp."""
    from mimiclab.motion.clip_loading import load_clip
    from mimiclab.deploy.reference import ClipReference
    from mimiclab.rotations.numpy_ops import quat_slerp

    m = load_clip(box_clip)
    from mimiclab.deploy.metrics import END_EFFECTORS, ROOT_BODY

    bodies = (ROOT_BODY, "torso_link", *END_EFFECTORS)
    ref = ClipReference.from_motion(m, m.joint_names, bodies, "torso_link", 0.03, (1,), with_object=True)
    track = ref.object
    s = ref.step(3)  # t = 0.09 s = frame 4.5
    np.testing.assert_allclose(s.object_pos_w, 0.5 * (track.pos_w[4] + track.pos_w[5]), atol=1e-12)
    np.testing.assert_allclose(s.object_quat_w, quat_slerp(track.quat_w[4], track.quat_w[5], 0.5), atol=1e-12)
    o = ref.initial_object_state()
    np.testing.assert_allclose(o.ang_vel, [0.0, 0.0, 0.2], atol=1e-9)
    np.testing.assert_allclose(o.lin_vel, 0.0, atol=1e-12)


def test_numpy_pointcloud_distance_matches_the_kernel():
    import torch

    from mimiclab.kernels.pointcloud import pointcloud_distance as kernel
    from mimiclab.sim2sim.metrics import pointcloud_distance

    rng = np.random.default_rng(0)
    pts = rng.normal(size=(1024, 3)) * 0.2
    for _ in range(5):
        pa, pb = rng.normal(size=3), rng.normal(size=3)
        qa, qb = rng.normal(size=4), rng.normal(size=4)
        qa, qb = qa / np.linalg.norm(qa), qb / np.linalg.norm(qb)
        want, _ = kernel(torch.from_numpy(pts), torch.from_numpy(np.r_[pa, qa][None]),
                         torch.from_numpy(np.r_[pb, qb][None]), backend="torch")
        assert pointcloud_distance(pts, pa, qa, pb, qb) == pytest.approx(float(want[0]), rel=1e-12)
    assert pointcloud_distance(pts, pa, qa, pa, qa) == 0.0
    # a pure 0.1 m offset: D = 0.1 m
    assert pointcloud_distance(pts, pa + [0, 0.1, 0], qa, pa, qa) == pytest.approx(0.1)


def test_random_residual_policy_runs_the_box_carry_clip(residual_policy_dir, box_carry_clip, tmp_path):
    video = tmp_path / "run.mp4"
    report = run_sim2sim(residual_policy_dir, [box_carry_clip], tmp_path / "out", video=video, progress=False)
    assert json.loads((tmp_path / "out" / "metrics.json").read_text()) == json.loads(json.dumps(report))
    assert report["units"] == {**METRIC_UNITS, OBJECT_METRIC: "m"}
    c = report["clips"]["box_carry"]
    assert c["steps"] >= 1 and (c["success"] or c["terminations"])
    assert all(math.isfinite(c[m]) for m in STEP_METRICS + (OBJECT_METRIC,))
    assert c[OBJECT_METRIC] >= 0.0
    assert report["overall"][OBJECT_METRIC] == pytest.approx(c[OBJECT_METRIC])
    assert (tmp_path / "out" / "box_carry_tracking.png").is_file()
    assert report["video"] is not None


def test_object_distance_termination_fails_the_episode(residual_policy_dir, box_clip, tmp_path):
    """A clip whose box flies away at 5 m/s: D passes 0.3 m within a few steps → object_distance."""
    from mimiclab.motion.format import load_motion, save_motion
    from mimiclab.motion.objects import object_track, with_object

    m = load_motion(box_clip)
    track = object_track(m)
    track.pos_w = track.pos_w + np.arange(m.num_frames)[:, None] * np.array([0.0, 0.0, 0.1])
    path = save_motion(tmp_path / "flying.npz", with_object(m, track))
    c = run_sim2sim(residual_policy_dir, [path], tmp_path / "out", progress=False)["clips"]["flying"]
    assert not c["success"]
    assert "object_distance" in c["terminations"]
    assert c["steps"] < 15


def test_a_clip_without_an_object_is_refused_with_one_line(residual_policy_dir, stand_clip, tmp_path):
    with pytest.raises(Sim2SimError) as e:
        run_sim2sim(residual_policy_dir, [stand_clip], tmp_path / "out", progress=False)
    msg = str(e.value)
    assert "\n" not in msg and "stand" in msg and "no object" in msg
    res = subprocess.run([sys.executable, "-m", "mimiclab", "sim2sim", "--policy", str(residual_policy_dir),
                          "--motion", str(stand_clip), "-o", str(tmp_path / "o")], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mimiclab sim2sim: error: ") and "no object" in lines[0]


def test_clips_with_different_objects_are_refused(residual_policy_dir, box_clip, tmp_path):
    from mimiclab.motion.format import load_motion, save_motion
    from mimiclab.motion.objects import object_track, with_object

    m = load_motion(box_clip)
    track = object_track(m)
    track.size = np.array([0.2, 0.2, 0.2])
    other = save_motion(tmp_path / "small_box.npz", with_object(m, track))
    with pytest.raises(Sim2SimError, match="differs"):
        run_sim2sim(residual_policy_dir, [box_clip, other], tmp_path / "out", progress=False)


def test_object_path_runs_with_isaaclab_blocked(residual_policy_dir, box_clip, tmp_path, run_with_isaaclab_blocked):
    clips, loaded = run_with_isaaclab_blocked(residual_policy_dir, box_clip, tmp_path / "o")
    c = clips["box_stand"]
    assert c["steps"] >= 1 and c["object_pointcloud_distance"] >= 0.0
    assert not loaded, loaded

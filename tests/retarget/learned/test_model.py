"""The network: joint limits hold by construction, its receptive field is what ``context_frames``
says, windowed batched inference equals whole-clip inference, the mirror of a pair is a mirror."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimiclab.retarget.learned.graph import HUMAN_ROLES
from mimiclab.retarget.learned.inference import predict, predict_clips, window_spans
from mimiclab.retarget.learned.model import ModelConfig, RetargetNet
from mimiclab.robots.g1 import G1

FPS = 50.0


def test_outputs_stay_within_the_joint_limits_and_rotations_stay_rotations_for_any_latent():
    torch.manual_seed(0)
    net = RetargetNet(ModelConfig(hidden=8, latent=16, dilations=(1,)))
    out = net.decode(torch.randn(3, 20, 16) * 1e3)
    lower = torch.tensor([j.lower for j in G1.joints])
    upper = torch.tensor([j.upper for j in G1.joints])
    assert out["joint_pos"].shape == (3, 20, len(G1.joints))
    tol = 1e-6  # float32 rounding of mid ± half
    assert bool(((out["joint_pos"] >= lower - tol) & (out["joint_pos"] <= upper + tol)).all())
    assert ((out["joint_pos"] - lower).abs() < tol).any() and ((out["joint_pos"] - upper).abs() < tol).any()
    m = out["rel_mat"]
    np.testing.assert_allclose((m.transpose(-1, -2) @ m).detach(), torch.eye(3).expand_as(m), atol=1e-5)


def test_an_untrained_network_stands_at_the_home_pose():
    net = RetargetNet(ModelConfig(hidden=8, latent=16, dilations=(1,)))
    with torch.no_grad():
        net.head.weight.zero_()
        out = net.decode(torch.zeros(1, 4, 16))
    default = torch.tensor([j.default_pos for j in G1.joints])
    np.testing.assert_allclose(out["joint_pos"][0, 0], default.clamp(net.joint_mid - 0.99 * net.joint_half,
                                                                        net.joint_mid + 0.99 * net.joint_half), atol=1e-5)
    np.testing.assert_allclose(out["rel_mat"][0, 0], torch.eye(3), atol=1e-6)
    assert float(out["rel_pos"][0, 0, 2]) == pytest.approx(0.78)


def _inputs(T: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    R = len(HUMAN_ROLES)
    roles = torch.randn(1, T, R, 3, generator=gen) * 0.2 + torch.tensor([0.0, 0.0, 1.0])
    roles[0, :, HUMAN_ROLES.index("left_hip"), 1] += 0.2
    present = torch.ones(1, R, dtype=torch.bool)
    contacts = torch.rand(1, T, 4, generator=gen) > 0.5
    return roles, present, contacts, torch.zeros(1, 6)


def test_one_output_frame_sees_exactly_context_frames_of_input_on_each_side():
    torch.manual_seed(1)
    net = RetargetNet(ModelConfig(hidden=8, latent=16, dilations=(1, 2))).eval()
    c = net.context_frames
    assert c == 2 * (1 + 2) + 1
    T, t = 4 * c, 2 * c
    roles, present, contacts, scales = _inputs(T)
    base = predict(net, roles, present, contacts, scales, FPS)[2][0, t]

    def moved(frame: int) -> float:
        r = roles.clone()
        r[0, frame, HUMAN_ROLES.index("left_wrist")] += 0.5
        return float((predict(net, r, present, contacts, scales, FPS)[2][0, t] - base).abs().max())

    assert moved(t - c) > 1e-6  # the farthest frame on the left still counts (velocity of frame t-c+1)
    assert moved(t + c - 1) > 1e-6
    assert moved(t - c - 1) == 0.0 and moved(t + c) == 0.0


@pytest.mark.parametrize("T,core,context", [(10, 4, 3), (100, 16, 7), (31, 8, 15), (64, 64, 5)])
def test_window_spans_tile_the_clip_with_full_context(T, core, context):
    spans = window_spans(T, core, context)
    cores = [i for _, _, c0, c1 in spans for i in range(c0, c1)]
    assert cores == list(range(T))
    for s, e, c0, c1 in spans:
        assert e - s == min(T, core + 2 * context)
        assert 0 <= s <= c0 and c1 <= e <= T
        assert c0 - s >= context or s == 0
        assert e - c1 >= context or e == T


def test_windowed_batched_inference_equals_whole_clip_inference():
    torch.manual_seed(2)
    net = RetargetNet(ModelConfig(hidden=8, latent=16, dilations=(1, 2))).eval()
    preps = []
    for T, seed in ((97, 0), (40, 1), (13, 2)):
        roles, present, contacts, scales = _inputs(T, seed)
        preps.append({"array": roles[0].numpy(), "points": contacts[0].numpy().reshape(T, 2, 2),
                      "present": present[0].numpy(), "log_scales": scales[0].numpy()})
    whole = [predict(net, torch.as_tensor(p["array"])[None], torch.as_tensor(p["present"])[None],
                     torch.as_tensor(p["points"].reshape(-1, 4))[None], torch.as_tensor(p["log_scales"])[None], FPS)
             for p in preps]
    for window, batch_frames in ((8, 64), (16, 10_000), (256, 65_536)):
        got = predict_clips(net, preps, FPS, window=window, batch_frames=batch_frames)
        for w, g in zip(whole, got):
            for a, b in zip(w, g):
                np.testing.assert_allclose(b, a[0].double().numpy(), atol=2e-6)


def test_the_model_refuses_another_frame_rate():
    net = RetargetNet(ModelConfig(hidden=8, latent=16, dilations=(1,)))
    with pytest.raises(ValueError, match="works at 50 fps, not 30"):
        predict(net, *_inputs(5), 30.0)


def test_at_the_shipped_size_a_clips_output_does_not_depend_on_the_other_clips_in_the_batch():
    """The cpu preset's network: the same bits for a clip whether it is retargeted alone or with
    others (a tiny test network can differ in the last bit: other GEMM kernels for other shapes)."""
    torch.manual_seed(3)
    net = RetargetNet(ModelConfig()).eval()
    preps = []
    for T, seed in ((400, 0), (400, 1), (150, 2), (150, 3), (90, 4)):
        roles, present, contacts, scales = _inputs(T, seed)
        preps.append({"array": roles[0].numpy(), "points": contacts[0].numpy().reshape(T, 2, 2),
                      "present": present[0].numpy(), "log_scales": scales[0].numpy()})
    together = predict_clips(net, preps, FPS)
    for i in (0, 2, 4):
        alone = predict_clips(net, preps[i:i + 1], FPS)[0]
        for a, b in zip(together[i], alone):
            np.testing.assert_array_equal(a, b)


def test_limit_velocity_clamps_each_step_to_the_joint_speed_limit_and_leaves_slow_motion_alone():
    from mimiclab.retarget.learned.inference import limit_velocity

    vmax = np.array([j.actuator.velocity_limit for j in G1.joints])
    slow = np.outer(np.arange(10), 0.5 * vmax / FPS)
    np.testing.assert_array_equal(limit_velocity(slow, FPS), slow)
    jump = np.zeros((6, len(G1.joints)))
    jump[3:, 0] = 1.0  # one joint jumps by 1 rad at frame 3
    out = limit_velocity(jump, FPS)
    step = vmax[0] / FPS
    np.testing.assert_allclose(out[:, 0], [0, 0, 0, step, min(1.0, 2 * step), min(1.0, 3 * step)])
    np.testing.assert_array_equal(out[:, 1:], 0.0)

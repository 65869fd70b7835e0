"""CPU smoke of the physics refinement loop (mimiclab.ikmr.refine): a few Isaac Lab rollouts of a
policy on a learned model's motion, one short fine-tune of the decoder on the executed motion, the
trackability report.

Data: two shipped synthetic clips, ``arm_wave.bvh`` (training split) and ``arm_wave_coco17.json``
(held-out split, by ``split_of``). Model: a tiny learned retargeter trained for a few iterations on
their IK pairs. Policy: the zero-output actor (PD onto the reference): it tracks these clips for about a second
before it falls, so the fine-tune learns from the tracked prefix (``kept_frames``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mimiclab.ikmr.refine import FALL_MARGIN_S


@pytest.fixture(scope="module")
def setup(tmp_path_factory, zero_actor_checkpoint):
    from mimiclab.retarget.learned.model import ModelConfig
    from mimiclab.retarget.learned.pairs import build_pairs, split_of
    from mimiclab.retarget.learned.training import TrainConfig, train_model
    from mimiclab.retarget.sources.synthetic import write_samples

    root = tmp_path_factory.mktemp("refine")
    samples = {p.name: p for p in write_samples(root / "samples")}
    data = root / "data"
    data.mkdir()
    for name in ("arm_wave.bvh", "arm_wave_coco17.json"):
        (data / name).write_bytes(samples[name].read_bytes())
    assert [split_of(n) for n in ("arm_wave", "arm_wave_coco17")] == ["train", "test"]
    pairs, errors = build_pairs([str(data)], str(root / "pairs"), progress=False)
    assert len(pairs) == 2 and not errors
    train_model(pairs, root / "model", TrainConfig(iterations=5, batch=4, window=16, eval_every=5, checkpoint_every=10),
                ModelConfig(hidden=8, latent=16, dilations=(1,)), progress=False, tensorboard=False)
    return {"root": root, "data": data, "pairs": root / "pairs", "policy": zero_actor_checkpoint}


@pytest.fixture(scope="module")
def refined(setup):
    from mimiclab.ikmr.refine import refine_model

    out = setup["root"] / "out"
    summary = refine_model(str(setup["root"] / "model"), str(setup["policy"]), [str(setup["data"])], str(out),
                           iterations=2, pairs_dir=str(setup["pairs"]), progress=False)
    return summary, out


def test_the_loop_rolls_out_keeps_the_tracked_clip_and_fine_tunes(refined):
    summary, out = refined
    assert summary["train_clips"] == ["arm_wave"] and summary["reported_clips"] == ["arm_wave_coco17"]
    assert summary["kept_clips"] == ["arm_wave"], summary["per_clip"]
    e = summary["per_clip"]["arm_wave.learned"]
    expect = e["tracked_s"] * 50 + 1 if e["success"] else round((e["tracked_s"] - FALL_MARGIN_S) * 50) + 1
    assert summary["kept_frames"]["arm_wave"] == expect
    assert summary["fine_tuned"] and (out / "model" / "model.pt").is_file()
    assert sorted(summary["per_clip"]) == ["arm_wave.learned", "arm_wave_coco17.ik", "arm_wave_coco17.learned",
                                           "arm_wave_coco17.refined"]
    on_disk = json.loads((out / "refine_report.json").read_text())
    assert on_disk["trackability"] == summary["trackability"]
    for kind in ("ik", "learned", "refined"):
        t = summary["trackability"][kind]
        assert t["clips"] == 1 and 0.0 <= t["success_rate"] <= 1.0 and np.isfinite(t["mpkpe_m"]) and t["mpkpe_m"] >= 0


def test_executed_pair_carries_the_executed_motion_and_the_human_side(refined, setup):
    from mimiclab.motion.format import load_motion
    from mimiclab.retarget.learned.pairs import read_pair
    from mimiclab.robots.g1 import G1

    summary, out = refined
    exe = read_pair(out / "executed_pairs" / "arm_wave.pair.npz")
    ik = read_pair(setup["pairs"] / "arm_wave.pair.npz")
    motion = load_motion(out / "executed" / "arm_wave.learned.executed.npz")
    T = exe["joint_pos"].shape[0]
    assert T == min(ik["roles"].shape[0], summary["kept_frames"]["arm_wave"]) and T >= 25
    np.testing.assert_allclose(exe["joint_pos"], motion.select(G1.joint_names).joint_pos[:T], atol=1e-5)
    np.testing.assert_array_equal(exe["roles"], ik["roles"][:T])
    assert exe["meta"]["robot_side"] == "executed"
    assert not np.allclose(exe["joint_pos"], ik["joint_pos"][:T], atol=1e-3)  # the executed motion, not IK's


def test_only_the_decoder_is_fine_tuned(refined, setup):
    from mimiclab.retarget.learned.checkpoint import load_model

    before = load_model(setup["root"] / "model").state_dict()
    after = load_model(refined[1] / "model").state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("decoder.", "head.")) for k in changed), changed


def test_bad_input_is_a_clear_error(setup, tmp_path):
    from mimiclab.ikmr.refine import refine_model

    model, data = str(setup["root"] / "model"), [str(setup["data"])]
    with pytest.raises(ValueError, match="no such policy checkpoint"):
        refine_model(model, str(tmp_path / "none.pt"), data, str(tmp_path / "o"))
    with pytest.raises(ValueError, match="no learned retargeter"):
        refine_model(str(tmp_path), str(setup["policy"]), data, str(tmp_path / "o"))
    with pytest.raises(ValueError, match="--iterations"):
        refine_model(model, str(setup["policy"]), data, str(tmp_path / "o"), iterations=0)

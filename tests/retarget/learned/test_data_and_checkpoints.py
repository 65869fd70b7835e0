"""IK pairs, the mirror augmentation, window sampling, checkpoints (weights_only) and seeded training."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from mimiclab.retarget.learned.checkpoint import load_model, save_model
from mimiclab.retarget.learned.dataset import Augment, PairSet, mirror_pair
from mimiclab.retarget.learned.graph import HUMAN_ROLES
from mimiclab.retarget.learned.model import ModelConfig, RetargetNet
from mimiclab.retarget.learned.pairs import read_pair, split_of
from mimiclab.retarget.learned.training import train_model
from mimiclab.robots.g1 import G1

from tiny_model import TINY, tiny_train_config


def test_pairs_hold_the_ik_solution_of_each_sample_and_the_split_is_by_name(learned_data):
    names = sorted(read_pair(p)["name"] for p in learned_data["pairs"])
    assert names == sorted(p.stem for p in learned_data["samples"].values())
    p = read_pair(learned_data["pairs"][0])
    T = p["roles"].shape[0]
    assert p["roles"].shape == (T, len(HUMAN_ROLES), 3) and p["joint_pos"].shape == (T, len(G1.joints))
    assert p["contacts"].shape == (T, 4) and p["meta"]["fps"] == 50.0
    np.testing.assert_allclose(np.linalg.norm(p["root_quat"], axis=1), 1.0, atol=1e-5)
    assert (np.sum(p["root_quat"][1:] * p["root_quat"][:-1], axis=1) > 0).all()  # one hemisphere: no flips
    assert {split_of(n) for n in names} == {"train", "test"}
    assert split_of("arm_wave") == split_of("arm_wave") and split_of("x/arm_wave") in ("train", "test")


def test_a_file_that_is_not_a_pair_is_refused_by_name(tmp_path):
    bad = tmp_path / "x.pair.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="x.pair.npz: not a readable pair file"):
        read_pair(bad)
    np.savez(tmp_path / "y.pair.npz", roles=np.zeros(3))
    with pytest.raises(ValueError, match="missing contacts"):
        read_pair(tmp_path / "y.pair.npz")


def test_the_mirror_of_a_pair_is_its_left_right_reflection(learned_data):
    from mimiclab.retarget.learned.losses import body_positions
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree
    from mimiclab.rotations.torch_ops import matrix_from_quat

    p = read_pair(learned_data["pairs"][0])
    m = mirror_pair(p)
    twice = mirror_pair(m)
    for k in ("roles", "present", "contacts", "root_pos", "root_quat", "joint_pos"):
        np.testing.assert_array_equal(twice[k], p[k])
    li, ri = HUMAN_ROLES.index("left_wrist"), HUMAN_ROLES.index("right_wrist")
    np.testing.assert_array_equal(m["roles"][:, li], p["roles"][:, ri] * [1, -1, 1])
    # the G1 mirrored through its joint table: the left foot lands where the right one was, reflected
    tree = g1_kinematic_tree()
    f = lambda x: torch.as_tensor(np.asarray(x, np.float32))[None]  # noqa: E731

    def bodies(q):
        return body_positions({"rel_pos": f(q["root_pos"]), "rel_mat": matrix_from_quat(f(q["root_quat"])),
                               "joint_pos": f(q["joint_pos"])}, tree)[0]

    a, b = bodies(p), bodies(m)
    left, right = tree.body_names.index("left_ankle_roll_link"), tree.body_names.index("right_ankle_roll_link")
    np.testing.assert_allclose(b[:, left], a[:, right] * torch.tensor([1.0, -1.0, 1.0]), atol=1e-5)


def test_window_sampling_is_seeded_and_stays_inside_the_data(learned_data):
    data = PairSet.load(learned_data["pairs"], "train", mirror=True)
    assert len(data.names) == 2 * len(set(n.split("~")[0] for n in data.names))
    a = data.sample(5, 16, torch.Generator().manual_seed(3), Augment())
    b = data.sample(5, 16, torch.Generator().manual_seed(3), Augment())
    c = data.sample(5, 16, torch.Generator().manual_seed(4), Augment())
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    assert not torch.equal(a["roles"], c["roles"])
    assert a["roles"].shape == (5, 16, len(HUMAN_ROLES), 3) and a["joint_pos"].shape == (5, 16, len(G1.joints))
    torch.testing.assert_close(a["root_quat"].norm(dim=-1), torch.ones(5, 16))
    assert set(a["contacts"].unique().tolist()) <= {0.0, 1.0}
    plain = data.sample(5, 16, torch.Generator().manual_seed(3))  # no augmentation: within the joint range seen
    lo, hi = data.frames["joint_pos"].min(0).values, data.frames["joint_pos"].max(0).values
    assert bool(((plain["joint_pos"] >= lo - 1e-6) & (plain["joint_pos"] <= hi + 1e-6)).all())


def test_checkpoints_round_trip_and_load_with_weights_only(tmp_path, monkeypatch):
    torch.manual_seed(0)
    net = RetargetNet(ModelConfig(**TINY))
    path = save_model(tmp_path / "m" / "model.pt", net, {"name": "m", "note": [1, 2]})
    assert (tmp_path / "m" / "model.json").is_file()
    seen = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: seen.append(k.get("weights_only")) or real(*a, **k))
    back = load_model(tmp_path / "m")
    assert seen == [True]
    assert back.info == {"name": "m", "note": [1, 2]} and back.cfg == net.cfg and not back.training
    for k, v in net.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], v, rtol=0, atol=0)
    assert path == tmp_path / "m" / "model.pt"


class _Payload:  # a pickled object: what weights_only refuses
    pass


def test_bad_model_files_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="no learned retargeter here"):
        load_model(tmp_path / "nothing")
    evil = tmp_path / "evil.pt"
    torch.save({"format": "mimiclab-retarget-model", "x": _Payload()}, evil)
    with pytest.raises(ValueError, match="evil.pt: not a readable model file"):
        load_model(evil)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(ValueError, match="not a mimiclab learned-retargeter model"):
        load_model(other)
    net = RetargetNet(ModelConfig(**TINY))
    save_model(tmp_path / "big.pt", net, {})
    buf = io.BytesIO((tmp_path / "big.pt").read_bytes())
    payload = torch.load(buf, weights_only=True)
    payload["config"]["hidden"] = 9
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="weights do not fit"):
        load_model(tmp_path / "mismatch.pt")
    payload["config"]["hidden"] = 8
    payload["joint_names"] = payload["joint_names"][::-1]
    torch.save(payload, tmp_path / "joints.pt")
    with pytest.raises(ValueError, match="joints differ"):
        load_model(tmp_path / "joints.pt")


def test_training_with_a_seed_reproduces_exactly_and_another_seed_differs(learned_data, tmp_path):
    runs = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        summary = train_model(learned_data["pairs"], tmp_path / name, tiny_train_config(seed=seed), ModelConfig(**TINY),
                              progress=False, tensorboard=name == "a")
        runs[name] = (summary, load_model(tmp_path / name).state_dict())
    (sa, wa), (sb, wb), (_, wc) = runs["a"], runs["b"], runs["c"]
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=0, atol=0)
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)
    assert [r["loss"] for r in sa["history"]] == [r["loss"] for r in sb["history"]]
    assert sa["iterations"] == 6 and [r["iteration"] for r in sa["history"]] == [3, 6]
    assert sa["heldout_body_error_m"] is not None and sa["test_clips"]
    assert (tmp_path / "a" / "checkpoints" / "model_4.pt").is_file()
    assert any((tmp_path / "a" / "tensorboard").iterdir()) and not (tmp_path / "b" / "tensorboard").exists()


def test_training_lowers_the_loss_on_the_training_windows(learned_data, tmp_path):
    from mimiclab.retarget.learned.losses import losses, total

    data = PairSet.load(learned_data["pairs"], "train")
    batch = data.sample(8, 16, torch.Generator().manual_seed(9))
    torch.manual_seed(0)
    before = float(total(losses(RetargetNet(ModelConfig(**TINY)), batch, data.fps)))
    train_model(learned_data["pairs"], tmp_path / "m", tiny_train_config(iterations=150, eval_every=150, lr=3e-3), ModelConfig(**TINY),
                progress=False, tensorboard=False)
    with torch.no_grad():
        after = float(total(losses(load_model(tmp_path / "m"), batch, data.fps)))
    assert after < 0.6 * before, (before, after)

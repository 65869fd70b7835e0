"""The residual training manager (mimiclab.rl.residual): frozen base + near-zero residual head, the
fine-tune / scratch baselines, base loading (checkpoint and ONNX) with contract checks, self-contained
checkpoints and the combined export. No Isaac Lab env needed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from tensordict import TensorDict

from mimiclab.deploy.contract import ContractError, ObservationTerm, save_contract
from mimiclab.deploy.onnx_policy import OnnxPolicy, write_policy_onnx
from mimiclab.rl.residual import (
    CLASS_PATH,
    ResidualError,
    ResidualMLPModel,
    check_base,
    deterministic_actor_modules,
    residual_actor_settings,
    residual_provenance,
)
from mimiclab.rl.residual_base import (
    RESIDUAL_POLICY_TERMS,
    BaseLoadError,
    check_base_contract,
    load_base_policy,
    residual_target,
)

BASE_DIM = 248  # the proprioceptive Mimic-Track-G1 actor
TASK_DIM = 266
J = 29
GROUPS = {"actor": ["policy"], "critic": ["policy"]}


def _td(x):
    return TensorDict({"policy": x}, batch_size=[x.shape[0]])


def _make_base(n_in=BASE_DIM, seed=0):
    """An rsl_rl MLPModel actor as the tracking runner builds it (normalisation on, 512-256-128 ELU),
    random weights and non-trivial normaliser statistics."""
    from rsl_rl.models import MLPModel

    torch.manual_seed(seed)
    model = MLPModel(_td(torch.zeros(2, n_in)), {"actor": ["policy"]}, "actor", J, [512, 256, 128], "elu", True,
                     {"class_name": "GaussianDistribution", "init_std": 1.0})
    model.train()
    for _ in range(3):
        model.update_normalization(_td(torch.randn(64, n_in) * (torch.rand(n_in) * 3 + 0.2) + torch.randn(n_in)))
    model.eval()
    assert not torch.allclose(model.obs_normalizer._std, torch.ones(n_in))
    return model


def _save_checkpoint(model, contract, run_dir):
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.save({"actor_state_dict": model.state_dict(), "iter": 10}, run_dir / "model_10.pt")
    save_contract(contract, run_dir / "contract.json")
    return run_dir / "model_10.pt"


def _export(model, contract, out):
    mlp = torch.nn.Sequential(model.mlp, model.distribution.as_deterministic_output_module())
    write_policy_onnx(model.obs_normalizer, mlp, contract, out)
    return out


@pytest.fixture(scope="module")
def base_model():
    return _make_base()


@pytest.fixture(scope="module")
def base_paths(base_model, g1_contract, tmp_path_factory):
    root = tmp_path_factory.mktemp("base")
    ckpt = _save_checkpoint(base_model, g1_contract, root / "run")
    onnx_dir = _export(base_model, g1_contract, root / "run" / "exported")
    return {"checkpoint": ckpt, "onnx": onnx_dir}


@pytest.fixture(scope="module")
def task_contract(g1_contract):
    return dataclasses.replace(g1_contract, task="Mimic-Residual-Box-G1", observations=RESIDUAL_POLICY_TERMS,
                               proprioceptive=False)  # ref_object_pos needs the robot's world position


def _obs(n=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, TASK_DIM, generator=g) * 2.0 + 0.5


def _residual(base_path, mode="residual", **kw):
    kw.setdefault("distribution_cfg", {"class_name": "GaussianDistribution", "init_std": 0.1})
    return ResidualMLPModel(_td(torch.zeros(2, TASK_DIM)), GROUPS, "actor", J, mode=mode,
                            base_path=str(base_path) if base_path else "", **kw)


def _base_actions(base_model, x):
    with torch.no_grad():
        return base_model(_td(x[:, :BASE_DIM]))


def _zero_head(model):
    last = [m for m in model.mlp if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()


@pytest.mark.parametrize("kind", ["checkpoint", "onnx"])
def test_zero_residual_reproduces_the_base_exactly(kind, base_model, base_paths):
    model = _residual(base_paths[kind])
    _zero_head(model)
    x = _obs()
    with torch.no_grad():
        got = model(_td(x))
        model(_td(x), stochastic_output=True)
    want = _base_actions(base_model, x)
    assert torch.equal(got, want)
    assert torch.equal(model.output_mean, want)


def test_onnx_base_matches_onnxruntime(base_paths, g1_contract):
    base = load_base_policy(base_paths["onnx"])
    policy = OnnxPolicy.load(base_paths["onnx"])
    x = _obs(4)[:, :BASE_DIM]
    with torch.no_grad():
        got = base.chain(x).numpy()
    for i in range(4):
        terms, s = {}, 0
        for t in g1_contract.observations:
            terms[t.name] = x[i, s:s + t.dim].numpy()
            s += t.dim
        np.testing.assert_allclose(policy(terms), got[i], atol=1e-5, rtol=0)


def test_residual_head_starts_near_zero_with_std_0_1(base_paths):
    torch.manual_seed(7)
    model = _residual(base_paths["checkpoint"])
    torch.manual_seed(7)
    plain = _residual(base_paths["checkpoint"], residual_gain=1.0)
    x = _obs()
    with torch.no_grad():
        head = model.mlp(model.obs_normalizer(x))
        normal = plain.mlp(plain.obs_normalizer(x))
        model(_td(x), stochastic_output=True)
    torch.testing.assert_close(head, 0.01 * normal, rtol=1e-5, atol=1e-7)
    assert 0.0 < head.abs().mean() < 0.02 * normal.abs().mean()
    assert torch.allclose(model.output_std, torch.full((16, J), 0.1))
    assert torch.allclose(model.distribution.std_param, torch.full((J,), 0.1))


def test_base_is_frozen_under_a_ppo_like_step(base_paths):
    model = _residual(base_paths["checkpoint"])
    model.train()
    assert not model.base.training  # the frozen base stays in eval mode
    names = [n for n, _ in model.named_parameters()]
    assert not any(n.startswith("base.") for n in names)
    base_before = {n: b.clone() for n, b in model.base.named_buffers()}
    assert base_before and all(not b.requires_grad for b in model.base.buffers())
    head_before = {n: p.clone() for n, p in model.named_parameters()}
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = _obs(32)
    for _ in range(3):
        actions = model(_td(x), stochastic_output=True).detach()
        old_logp = model.get_output_log_prob(actions).detach()
        model(_td(x), stochastic_output=True)
        logp = model.get_output_log_prob(actions)
        adv = torch.randn(32)
        ratio = torch.exp(logp - old_logp)
        loss = -torch.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv).mean() - 0.005 * model.output_entropy.mean()
        opt.zero_grad()
        loss.backward()
        assert all(b.grad is None for b in model.base.buffers())
        opt.step()
    for n, b in model.base.named_buffers():
        assert torch.equal(b, base_before[n]), n
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, head_before[n])]
    assert "mlp.6.weight" in changed and "distribution.std_param" in changed


class _FakeEnv:
    num_envs, num_actions = 8, J


def test_rsl_rl_ppo_builds_the_actor_from_the_class_path_and_never_touches_the_base(base_paths):
    from rsl_rl.algorithms import PPO

    obs = _td(_obs(8))
    cfg = {"algorithm": {"class_name": "PPO", "num_learning_epochs": 2, "num_mini_batches": 2, "learning_rate": 1e-3},
           "actor": {"class_name": CLASS_PATH, "hidden_dims": [512, 256, 128], "activation": "elu",
                     "obs_normalization": True,
                     "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": 0.1},
                     "mode": "residual", "base_path": str(base_paths["onnx"]), "stochastic": {},
                     "init_noise_std": {}},
           "critic": {"class_name": "MLPModel", "hidden_dims": [64], "activation": "elu", "obs_normalization": True},
           "obs_groups": {"actor": ["policy"], "critic": ["policy"]}, "num_steps_per_env": 4, "multi_gpu": None}
    alg = PPO.construct_algorithm(obs, _FakeEnv(), cfg, "cpu")
    actor = alg.get_policy()
    assert isinstance(actor, ResidualMLPModel)
    base_ids = {id(b) for b in actor.base.buffers()}
    opt_ids = {id(p) for g in alg.optimizer.param_groups for p in g["params"]}
    assert not base_ids & opt_ids
    before = {n: b.clone() for n, b in actor.base.named_buffers()}
    alg.train_mode()
    for step in range(4):
        alg.act(obs)
        actor.update_normalization(obs)
        obs = _td(_obs(8, seed=10 + step))
        alg.process_env_step(obs, torch.randn(8), torch.zeros(8, dtype=torch.long), {})
    alg.compute_returns(obs)
    alg.update()
    for n, b in actor.base.named_buffers():
        assert torch.equal(b, before[n])
    assert actor.obs_normalizer.count > 0  # the residual's own normaliser learns


@pytest.mark.parametrize("change, field", [
    ("swap_joints", "joint_names"),
    ("dims", "joint_vel"),
    ("dt", "control_dt"),
    ("order", "observation order"),
    ("extra_term", "not produced by the target"),
])
def test_base_contract_mismatch_is_refused_naming_the_field(change, field, g1_contract):
    c = g1_contract
    if change == "swap_joints":
        names = list(c.joint_names)
        names[3], names[4] = names[4], names[3]
        c = dataclasses.replace(c, joint_names=tuple(names))
    elif change == "dims":
        c = dataclasses.replace(c, observations=tuple(dataclasses.replace(t, dim=30) if t.name == "joint_vel" else t
                                                      for t in c.observations))
    elif change == "dt":
        c = dataclasses.replace(c, decimation=8)
    elif change == "order":
        obs = list(c.observations)
        obs[5], obs[6] = obs[6], obs[5]
        c = dataclasses.replace(c, observations=tuple(obs))
    elif change == "extra_term":
        c = dataclasses.replace(c, observations=c.observations + (ObservationTerm("height_scan", 10),))
    with pytest.raises(ContractError, match=field) as e:
        check_base_contract(c, residual_target(), source="base")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("change, field", [("swap_joints", "joint_names"), ("dt", "control_dt"),
                                           ("dims", "ref_anchor_pos_local")])
def test_model_refuses_a_mismatching_base(change, field, g1_contract, tmp_path):
    c, n_in = g1_contract, BASE_DIM
    if change == "swap_joints":
        names = list(c.joint_names)
        names[0], names[1] = names[1], names[0]
        c = dataclasses.replace(c, joint_names=tuple(names))
    elif change == "dt":
        c = dataclasses.replace(c, physics_dt=0.01)
    else:  # a base whose ref_anchor_pos_local has 5 future frames (network and contract agree, the task does not)
        c = dataclasses.replace(c, observations=tuple(dataclasses.replace(t, dim=15) if t.name == "ref_anchor_pos_local"
                                                      else t for t in c.observations))
        n_in = BASE_DIM + 3
    ckpt = _save_checkpoint(_make_base(n_in, seed=3), c, tmp_path / "run")
    with pytest.raises(ContractError, match=field):
        _residual(ckpt)
    with pytest.raises(ContractError, match=field):
        check_base(ckpt, "residual")


def test_a_state_estimation_base_does_not_fit_the_residual_task(g1_state_estimation_contract):
    """The residual task's tracking part is the proprioceptive actor: a Mimic-Track-G1-StateEstimation base
    is refused by name."""
    with pytest.raises(ContractError, match="observation term 'ref_anchor_pos' is not produced by the target"):
        check_base_contract(g1_state_estimation_contract, residual_target(), source="base")


def test_network_not_matching_its_own_contract_is_refused(g1_contract, tmp_path):
    ckpt = _save_checkpoint(_make_base(BASE_DIM + 1, seed=4), g1_contract, tmp_path / "run")
    with pytest.raises(BaseLoadError, match="249 inputs"):
        load_base_policy(ckpt)


def test_checkpoint_without_contract_is_refused(base_model, tmp_path):
    torch.save({"actor_state_dict": base_model.state_dict()}, tmp_path / "model_1.pt")
    with pytest.raises(BaseLoadError, match="contract.json"):
        load_base_policy(tmp_path / "model_1.pt")


def test_unsupported_onnx_op_is_refused_naming_it(g1_contract, tmp_path):
    norm = torch.nn.Identity()
    mlp = torch.nn.Sequential(torch.nn.Linear(BASE_DIM, 16), torch.nn.Sigmoid(), torch.nn.Linear(16, J))
    write_policy_onnx(norm, mlp, g1_contract, tmp_path)
    with pytest.raises(BaseLoadError, match="'Sigmoid'"):
        load_base_policy(tmp_path)


@pytest.mark.parametrize("kind", ["checkpoint", "onnx"])
def test_save_load_round_trip_is_self_contained(kind, base_paths, tmp_path):
    model = _residual(base_paths[kind])
    with torch.no_grad():
        for p in model.mlp.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    model.train()
    model.update_normalization(_td(_obs(64, seed=5)))
    model.eval()
    path = tmp_path / "model_3.pt"
    torch.save({"actor_state_dict": model.state_dict()}, path)
    state = torch.load(path, weights_only=True)["actor_state_dict"]
    x = _obs()
    with torch.no_grad():
        want = model(_td(x))
    for base_path in (base_paths[kind], None):  # None: the base comes from the checkpoint alone
        other = _residual(base_path)
        other.load_state_dict(state, strict=True)
        with torch.no_grad():
            assert torch.equal(other(_td(x)), want)
        assert other.base_contract.digest() == model.base_contract.digest()
    with pytest.raises(ResidualError, match="mode 'residual'"):
        _residual(base_paths[kind], mode="finetune").load_state_dict(state)
    assert all(isinstance(v, torch.Tensor) for v in state.values())  # multi-GPU broadcast takes every entry
    assert residual_actor_settings(path) == {"mode": "residual", "base_path": str(base_paths[kind])}
    assert residual_actor_settings(base_paths["checkpoint"]) is None  # a plain tracking checkpoint


def test_finetune_starts_as_the_base_and_trains_it(base_model, base_paths, tmp_path):
    model = _residual(base_paths["checkpoint"], mode="finetune")
    x = _obs()
    with torch.no_grad():
        torch.testing.assert_close(model(_td(x)), _base_actions(base_model, x), rtol=0, atol=1e-5)
    first = model.mlp.t0
    assert first.shape == (512, TASK_DIM) and first.requires_grad
    assert torch.equal(first[:, BASE_DIM:], torch.zeros(512, TASK_DIM - BASE_DIM))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = first.detach().clone()
    model(_td(x), stochastic_output=True)
    (-model.get_output_log_prob(torch.zeros(16, J)).mean()).backward()
    opt.step()
    assert not torch.equal(model.mlp.t0, before)
    model.train()
    model.update_normalization(_td(x))
    assert model.obs_normalizer.rest.count == 16
    torch.save({"actor_state_dict": model.state_dict()}, tmp_path / "ft.pt")
    other = _residual(base_paths["onnx"], mode="finetune")
    other.load_state_dict(torch.load(tmp_path / "ft.pt", weights_only=True)["actor_state_dict"])
    with torch.no_grad():
        assert torch.equal(other(_td(x)), model.eval()(_td(x)))
    with pytest.raises(ResidualError, match="base_path"):
        _residual(None, mode="finetune")


def test_scratch_is_a_plain_mlp_actor():
    model = _residual(None, mode="scratch")
    assert not hasattr(model, "base") or model.mode == "scratch"
    assert model.base_contract is None
    model(_td(_obs()), stochastic_output=True)
    assert torch.allclose(model.output_std, torch.ones(16, J))
    last = [m for m in model.mlp if isinstance(m, torch.nn.Linear)][-1]
    assert last.weight.abs().mean() > 0.01  # normal initialisation, no 0.01 gain


@pytest.mark.parametrize("mode", ["residual", "finetune", "scratch"])
def test_combined_export_matches_the_torch_actor(mode, base_paths, task_contract, tmp_path):
    model = _residual(base_paths["onnx"] if mode != "scratch" else None, mode=mode, residual_gain=1.0)
    model.train()
    model.update_normalization(_td(_obs(64, seed=8)))
    model.eval()
    import dataclasses

    contract = dataclasses.replace(task_contract, extra={"residual": residual_provenance(model)})
    final = write_policy_onnx(*deterministic_actor_modules(model), contract, tmp_path)  # what export_runner does
    assert [t.name for t in final.observations] == [t.name for t in RESIDUAL_POLICY_TERMS]
    assert final.extra["residual"]["residual_mode"] == mode
    policy = OnnxPolicy.load(tmp_path)
    x = _obs(5, seed=9)
    with torch.no_grad():
        want = model(_td(x)).numpy()
    for i in range(5):
        terms, s = {}, 0
        for t in final.observations:
            terms[t.name] = x[i, s:s + t.dim].numpy()
            s += t.dim
        np.testing.assert_allclose(policy(terms), want[i], atol=1e-5, rtol=0)


def test_the_task_agent_cfg_builds_the_residual_actor(base_paths):
    from isaaclab.utils import to_dict
    from rsl_rl.utils import resolve_class

    from mimiclab.tasks.residual.config.g1.agents.rsl_rl_ppo_cfg import G1ResidualBoxPPORunnerCfg

    cfg = G1ResidualBoxPPORunnerCfg()
    cfg.actor.base_path = check_base(base_paths["checkpoint"], "residual")  # what `--base` does
    assert cfg.actor.class_name == CLASS_PATH and cfg.actor.mode == "residual"
    assert cfg.actor.base_path == str(base_paths["checkpoint"].resolve())
    assert cfg.actor.distribution_cfg.init_std == 0.1 and cfg.actor.residual_gain == 0.01
    cls, kwargs = resolve_class(to_dict(cfg.actor))
    assert cls is ResidualMLPModel
    model = cls(_td(torch.zeros(2, TASK_DIM)), GROUPS, "actor", J, **kwargs)
    assert model.mode == "residual" and model.base_dim == BASE_DIM
    assert check_base(None, "scratch") == ""
    with pytest.raises(ResidualError, match="without a base"):
        check_base(base_paths["checkpoint"], "scratch")
    with pytest.raises(ResidualError, match="needs a base"):
        check_base(None, "finetune")
    with pytest.raises(ResidualError, match="choose one of"):
        check_base(base_paths["checkpoint"], "resid")

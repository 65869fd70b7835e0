"""Export verifies the written ONNX against the runner's inference policy on recorded observations."""

from __future__ import annotations

import copy

import pytest
import torch

from mimiclab.rl.export import ExportError, VERIFY_STEPS, _check_onnx_matches_runner


class FakeEnv:
    """Observations that move with every step (a seeded random walk over the policy group)."""

    def __init__(self, num_envs: int, dim: int):
        self.g = torch.Generator().manual_seed(0)
        self.obs = torch.randn(num_envs, dim, generator=self.g)
        self.steps = 0

    def get_observations(self):
        return {"policy": self.obs.clone()}

    def step(self, actions):
        self.steps += 1
        self.obs = self.obs + 0.3 * torch.randn(self.obs.shape, generator=self.g) + 0.01 * actions.sum()
        return {"policy": self.obs.clone()}, None, torch.zeros(self.obs.shape[0], dtype=torch.bool), {}


class FakeRunner:
    def __init__(self, env, policy):
        self.env, self.device, self._policy = env, "cpu", policy

    def get_inference_policy(self, device=None):
        return self._policy


def _policy(normalizer, mlp):
    return lambda obs: mlp(normalizer(obs["policy"]))


def test_the_runner_s_own_policy_passes_and_a_different_one_is_refused(random_policy_dir):
    out, norm, mlp = random_policy_dir
    n = next(mlp.parameters()).shape[1]
    env = FakeEnv(3, n)
    worst = _check_onnx_matches_runner(FakeRunner(env, _policy(norm, mlp)), out)
    assert worst < 1e-5
    assert env.steps == VERIFY_STEPS  # the observations were recorded over several steps
    drifted = copy.deepcopy(mlp)
    with torch.no_grad():
        drifted[2].bias.add_(1e-3)  # what the runner plays is not what was exported
    with pytest.raises(ExportError, match="differs from the runner's inference policy"):
        _check_onnx_matches_runner(FakeRunner(FakeEnv(3, n), _policy(norm, drifted)), out)

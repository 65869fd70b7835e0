"""The diffusion sampler and the evaluation metrics against answers known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimiclab.robomirror.diffusion import alpha_bars, ddim_sample, training_loss
from mimiclab.robomirror.evaluation import frechet_distance, recall_at


class _Oracle(torch.nn.Module):
    """A denoiser that predicts x0 = a with the intent and x0 = b without it."""

    def __init__(self, a, b, steps=100):
        super().__init__()
        self.a, self.b, self.diffusion_steps = a, b, steps
        self.out = torch.nn.Sequential(torch.nn.Linear(1, a.shape[-1]))
        self.calls = 0

    def forward(self, x, t, intent, has_intent, prev, has_prev):
        self.calls += 1
        return torch.where(has_intent[:, None] > 0, self.a.expand_as(x), self.b.expand_as(x))


def test_alpha_bars_fall_from_almost_one_to_almost_zero():
    ab = alpha_bars(1000)
    assert ab.shape == (1000,) and bool((ab[1:] <= ab[:-1]).all())
    assert ab[0] > 0.999 and ab[-1] < 1e-3


def test_ddim_lands_on_the_predicted_x0_and_guidance_extrapolates():
    a, b = torch.tensor([[1.0, -2.0, 0.5]]), torch.tensor([[0.0, 1.0, 0.5]])
    oracle = _Oracle(a, b)
    kw = dict(intent=torch.zeros(4, 2), has_intent=torch.ones(4), prev=torch.zeros(4, 3), has_prev=torch.zeros(4))
    x = ddim_sample(oracle, steps=10, guidance=1.0, gen=torch.Generator().manual_seed(0), **kw)
    torch.testing.assert_close(x, a.expand(4, 3), atol=1e-5, rtol=0)
    assert oracle.calls == 10  # no unconditional pass at guidance 1
    x = ddim_sample(oracle, steps=10, guidance=3.0, gen=torch.Generator().manual_seed(0), **kw)
    torch.testing.assert_close(x, (b + 3.0 * (a - b)).expand(4, 3), atol=1e-5, rtol=0)


def test_ddim_is_deterministic_with_a_seed():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 3)

    class Den(torch.nn.Module):
        diffusion_steps = 100
        out = torch.nn.Sequential(torch.nn.Linear(1, 3))

        def forward(self, x, t, intent, has_intent, prev, has_prev):
            return torch.tanh(net(x)) * has_intent[:, None] + 0.01 * t.float()[:, None]

    kw = dict(intent=torch.zeros(2, 2), has_intent=torch.ones(2), prev=torch.zeros(2, 3), has_prev=torch.zeros(2))
    x1 = ddim_sample(Den(), gen=torch.Generator().manual_seed(5), **kw)
    x2 = ddim_sample(Den(), gen=torch.Generator().manual_seed(5), **kw)
    x3 = ddim_sample(Den(), gen=torch.Generator().manual_seed(6), **kw)
    assert torch.equal(x1, x2) and not torch.equal(x1, x3)


def test_training_loss_is_zero_for_a_perfect_denoiser():
    a = torch.tensor([[0.3, 0.1, -0.4]])
    oracle = _Oracle(a, a)
    z = a.expand(8, 3)
    loss = training_loss(oracle, z, torch.zeros(8, 2), torch.ones(8), torch.zeros(8, 3), torch.zeros(8),
                         torch.Generator().manual_seed(0))
    assert float(loss) == 0.0
    loss = training_loss(oracle, z + 1.0, torch.zeros(8, 2), torch.ones(8), torch.zeros(8, 3), torch.zeros(8),
                         torch.Generator().manual_seed(0))
    assert float(loss) == pytest.approx(1.0)


def test_recall_at_k():
    scores = torch.tensor([[0.9, 0.1, 0.5], [0.2, 0.3, 0.1], [0.0, 0.1, 0.2]])
    target = torch.tensor([0, 0, 0])
    assert recall_at(scores, target, 1) == pytest.approx(1 / 3)
    assert recall_at(scores, target, 2) == pytest.approx(2 / 3)
    assert recall_at(scores, target, 3) == 1.0


def test_frechet_distance_of_shifted_and_scaled_gaussians():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 3))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, -2.0, 0.5])
    assert frechet_distance(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    # N(0, I) vs N(0, 4I) in 3-D: trace(I + 4I − 2·2I) = 3
    assert frechet_distance(x, 2 * rng.normal(size=(20000, 3))) == pytest.approx(3.0, abs=0.1)

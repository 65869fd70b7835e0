"""ResMimic's residual training manager: a frozen general motion-tracking (GMT) base policy plus a
trainable residual, ``action = a_base + a_res``, as an rsl_rl 5.5 actor model, and its two baselines.

Runner config (``agent.actor``; :class:`mimiclab.tasks.residual.config.g1.agents.residual_actor_cfg.ResidualMLPModelCfg`)::

    class_name = "mimiclab.rl.residual:ResidualMLPModel"   # rsl_rl's resolve_callable takes module:Class
    mode       = "residual" | "finetune" | "scratch"
    base_path  = "<run>/model_N.pt" | "<run>/exported/" | "<run>/exported/policy.onnx"

Launching (``mimiclab train --base PATH`` checks the base with :func:`check_base`; every field is also a plain
Hydra override)::

    mimiclab train --task Mimic-Residual-Box-G1 --base PATH                        # residual (default)
    mimiclab train --task Mimic-Residual-Box-G1 --base PATH agent.actor.mode=finetune
    mimiclab train --task Mimic-Residual-Box-G1 agent.actor.mode=scratch           # no base needed
    # without --base: agent.actor.base_path=PATH agent.actor.mode=...

Modes, one code path (:class:`ResidualMLPModel`):

* ``residual`` — frozen base (its normaliser + MLP as buffers: ``requires_grad`` False, never in
  ``parameters()`` so never in the optimizer, always in eval mode, its statistics never updated) reading the
  first ``base.observation_dim`` values of the policy observations (the base contract's terms must be a
  prefix of the task's; checked), plus a residual head (own EmpiricalNormalization over the whole policy
  group, MLP with its last layer scaled by ``residual_gain`` = 0.01) and a Gaussian over the sum with
  initial std 0.1. Mean = base(obs[:, :248]) + head(obs).
* ``finetune`` — the base network made trainable, initialised from the base. It also sees the object terms:
  its first layer is widened with zero weights for them (so at iteration 0 it acts exactly as the base); the
  base normaliser stays fixed for the base's inputs (the pretrained weights are tied to it), a fresh
  EmpiricalNormalization covers the extra inputs. Initial std 0.1.
* ``scratch`` — a plain MLP actor over the whole policy group (rsl_rl MLPModel behaviour, normal
  last-layer init), initial std ``scratch_init_std`` = 1.0 (as the tracking task).

The base's ``actions`` input: the env's ``actions`` term (``last_action``) reports the previous action the
env received, i.e. the previous *combined* action ``a_base + a_res`` (sampled during training). The base
gets exactly that, unchanged. This is what the base saw as "last action" in its own training — the action
that was actually applied to the PD targets — so its input stays a faithful description of the robot's
closed-loop state; feeding it its own previous output instead would need per-env state inside the actor, and
would describe an action that was never applied. Deployment (the combined ONNX) reads the same term, so
training and deployment agree.

The checkpoint (``actor_state_dict``) holds the base too — ``base.t<i>``/``base.b<i>`` buffers and
``base.spec`` (its op list, int64) — plus ``residual_meta`` (uint8 JSON: mode, base path, base contract):
all tensors (``weights_only`` loads and rsl_rl's multi-GPU broadcast take them); a run is self-contained; a model built with ``base_path=""`` (residual mode) rebuilds its base from the
checkpoint on ``load_state_dict``.

Export: ``mimiclab.rl.export.export_runner`` writes one ``policy.onnx`` + ``contract.json`` (the task's
terms as inputs, output = the deterministic combined mean from :func:`deterministic_actor_modules`), with
:func:`residual_provenance` in the contract's ``extra``.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import torch
from rsl_rl.models import MLPModel
from rsl_rl.modules import EmpiricalNormalization
from rsl_rl.modules.distribution import GaussianDistribution
from rsl_rl.utils import unpad_trajectories
from torch import nn

from mimiclab.deploy.contract import Contract, ObservationTerm
from mimiclab.rl.residual_base import (
    RESIDUAL_CONTROL_DT,
    RESIDUAL_POLICY_TERMS,
    BaseLoadError,
    LayerChain,
    base_contract_json,
    check_base_contract,
    contract_from_json,
    load_base_policy,
    residual_target,
)

MODES = ("residual", "finetune", "scratch")
CLASS_PATH = "mimiclab.rl.residual:ResidualMLPModel"
RESIDUAL_INIT_STD = 0.1
RESIDUAL_GAIN = 0.01
_LEGACY_KEYS = ("stochastic", "init_noise_std", "noise_std_type", "state_dependent_std")


class ResidualError(ValueError):
    """Bad residual configuration (one-line message)."""


class _SplitNormalizer(nn.Module):
    """Fixed (the base's) normalisation of the first `n` inputs, an updatable one of the rest."""

    def __init__(self, fixed: LayerChain, rest: nn.Module, n: int):
        super().__init__()
        self.fixed, self.rest, self.n = fixed, rest, int(n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.fixed(x[..., :self.n]) if not self.fixed.empty else x[..., :self.n]
        return torch.cat([head, self.rest(x[..., self.n:])], dim=-1)

    def update(self, x: torch.Tensor) -> None:
        if isinstance(self.rest, EmpiricalNormalization):
            self.rest.update(x[..., self.n:])


class ResidualMLPModel(MLPModel):
    """rsl_rl actor for the residual task and its baselines (module docstring); construct through the runner
    cfg (``class_name = "mimiclab.rl.residual:ResidualMLPModel"``)."""

    def __init__(
        self,
        obs,
        obs_groups: dict[str, list[str]],
        obs_set: str,
        output_dim: int,
        hidden_dims: tuple[int, ...] | list[int] = (512, 256, 128),
        activation: str = "elu",
        obs_normalization: bool = True,
        distribution_cfg: dict | None = None,
        mode: str = "residual",
        base_path: str = "",
        residual_gain: float = RESIDUAL_GAIN,
        scratch_init_std: float = 1.0,
        control_dt: float | None = RESIDUAL_CONTROL_DT,
        policy_terms: list | None = None,
        base_activation: str | None = None,
        **legacy,
    ) -> None:
        unknown = [k for k in legacy if k not in _LEGACY_KEYS]
        if unknown:
            raise TypeError(f"ResidualMLPModel got an unexpected argument '{unknown[0]}'")
        if mode not in MODES:
            raise ResidualError(f"agent.actor.mode is {mode!r}; choose one of {', '.join(MODES)}")
        if distribution_cfg is None:
            distribution_cfg = {"class_name": "GaussianDistribution", "init_std": RESIDUAL_INIT_STD}
        distribution_cfg = dict(distribution_cfg)
        if mode == "scratch":
            distribution_cfg["init_std"] = scratch_init_std
        super().__init__(obs, obs_groups, obs_set, output_dim, hidden_dims, activation, obs_normalization,
                         distribution_cfg)
        self.mode = mode
        self.base_source = ""
        self.base_path = str(base_path or "")
        self.base_contract: Contract | None = None
        self.base_dim = 0
        if mode != "scratch" and type(self.distribution) is not GaussianDistribution:
            raise ResidualError(f"mode {mode!r} needs a GaussianDistribution (state-independent std), got "
                                f"{type(self.distribution).__name__}")
        terms = tuple(ObservationTerm(str(t[0]), int(t[1])) for t in policy_terms) if policy_terms else \
            RESIDUAL_POLICY_TERMS
        self.policy_terms = terms
        if mode != "scratch":
            self._init_base(base_path, base_activation, residual_gain, control_dt, obs_normalization)
        self._set_meta()

    def _init_base(self, base_path, base_activation, residual_gain, control_dt, obs_normalization) -> None:
        mode, terms = self.mode, self.policy_terms
        if mode == "residual":
            with torch.no_grad():  # the residual head starts near zero (ResMimic: last-layer gain 0.01)
                last = [m for m in self.mlp if isinstance(m, nn.Linear)][-1]
                last.weight.mul_(residual_gain)
                last.bias.mul_(residual_gain)
        if not base_path:
            if mode == "finetune":
                raise ResidualError("mode 'finetune' needs the base policy: set agent.actor.base_path (--base)")
            self.base = LayerChain()  # rebuilt from a checkpoint on load_state_dict
            return
        base = load_base_policy(base_path, activation=base_activation)
        total = sum(t.dim * max(t.history_length, 1) for t in terms)
        if total != self.obs_dim:
            raise ResidualError(f"the actor's observations have {self.obs_dim} values but the residual task's "
                                f"policy terms add up to {total}")
        check_base_contract(base.contract, residual_target(observations=terms, control_dt=control_dt),
                            source=base.source)
        self._set_base_info(base.contract, base.source)
        if mode == "residual":
            self.base = base.chain
        else:  # finetune: the base network, trainable, widened for the extra (object) inputs
            norm, net = base.chain.split_normalizer()
            extra = self.obs_dim - self.base_dim
            rest = EmpiricalNormalization(extra) if obs_normalization and extra > 0 else nn.Identity()
            self.obs_normalizer = _SplitNormalizer(norm, rest, self.base_dim)
            self.obs_normalization = isinstance(rest, EmpiricalNormalization)
            self.mlp = net.widened(extra, trainable=True)

    def _set_base_info(self, contract: Contract, source: str) -> None:
        self.base_contract, self.base_source = contract, source
        self.base_dim = contract.observation_dim

    # ---- forward
    def policy_mean(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic action mean from the concatenated (raw) policy observations."""
        out = self.mlp(self.obs_normalizer(x))
        if self.mode == "residual":
            if self.base.empty:
                raise BaseLoadError("the residual actor has no base policy (set base_path or load a checkpoint)")
            with torch.no_grad():
                base = self.base(x[..., :self.base_dim])
            out = base + out
        return out

    def forward(self, obs, masks: torch.Tensor | None = None, hidden_state=None,
                stochastic_output: bool = False) -> torch.Tensor:
        obs = unpad_trajectories(obs, masks) if masks is not None and not self.is_recurrent else obs
        mean = self.policy_mean(torch.cat([obs[g] for g in self.obs_groups], dim=-1))
        if self.distribution is not None:
            if stochastic_output:
                self.distribution.update(mean)
                return self.distribution.sample()
            return self.distribution.deterministic_output(mean)
        return mean

    # ---- self-contained checkpoint: mode, base path and base contract as a uint8 JSON buffer
    def _set_meta(self) -> None:
        data = json.dumps({"mode": self.mode, "base_path": self.base_path, "base_source": self.base_source,
                           "base_contract": base_contract_json(self.base_contract) if self.base_contract else ""},
                          sort_keys=True).encode()
        dev = next(self.parameters()).device
        self.register_buffer("residual_meta", torch.tensor(list(data), dtype=torch.uint8, device=dev))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        meta = state_dict.get(prefix + "residual_meta")
        if meta is not None:
            info = _meta_dict(meta)
            if info.get("mode", self.mode) != self.mode:
                raise ResidualError(f"the checkpoint was trained in mode {info.get('mode')!r}, this actor is "
                                    f"{self.mode!r} (set agent.actor.mode)")
            if info.get("base_contract"):
                self._set_base_info(contract_from_json(info["base_contract"]), info.get("base_source", ""))
            self.base_path = info.get("base_path", self.base_path)
            self.residual_meta = meta.detach().clone().to(self.residual_meta.device)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    # ---- export
    def as_onnx(self, verbose: bool = False) -> nn.Module:
        return _DeterministicActor(self)

    def as_jit(self) -> nn.Module:
        raise NotImplementedError("TorchScript export of ResidualMLPModel is not supported; use "
                                  "mimiclab export (ONNX)")

    def parameters_summary(self) -> dict:
        """{"trainable": n, "frozen": n} numbers of values (the frozen base lives in buffers)."""
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        frozen = sum(b.numel() for n, b in self.named_buffers() if n.startswith("base."))
        return {"trainable": trainable, "frozen": frozen}


class _DeterministicActor(nn.Module):
    """The actor's deterministic mean from the concatenated raw policy observations (CPU copy)."""

    is_recurrent = False

    def __init__(self, model: ResidualMLPModel):
        super().__init__()
        # copy only the parts that compute the mean: after a rollout the distribution holds non-leaf tensors
        part = lambda module: copy.deepcopy(module).cpu().eval()  # noqa: E731
        self.mode = model.mode
        self.obs_normalizer, self.mlp, self.base_dim = part(model.obs_normalizer), part(model.mlp), model.base_dim
        self.base = part(model.base) if model.mode == "residual" else None
        self.input_size = model.obs_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.mlp(self.obs_normalizer(x))
        if self.base is not None:
            out = self.base(x[..., :self.base_dim]) + out
        return out

    def get_dummy_inputs(self) -> tuple[torch.Tensor]:
        return (torch.zeros(1, self.input_size),)

    @property
    def input_names(self) -> list[str]:
        return ["obs"]

    @property
    def output_names(self) -> list[str]:
        return ["actions"]


def deterministic_actor_modules(actor) -> tuple[nn.Module, nn.Module]:
    """(normaliser, mlp) for :func:`mimiclab.deploy.onnx_policy.write_policy_onnx`: ``(Identity, whole
    deterministic actor)`` for a ResidualMLPModel (all modes)."""
    if not isinstance(actor, ResidualMLPModel):
        raise ResidualError(f"not a ResidualMLPModel: {type(actor).__name__}")
    return nn.Identity(), _DeterministicActor(actor)


def residual_provenance(model: ResidualMLPModel) -> dict:
    """What an exported combined policy was built from (``contract.extra["residual"]``): the mode and,
    with a base, the base contract's digest, its ONNX hash, where it came from and its input size."""
    info = {"residual_mode": model.mode}
    if model.base_contract is not None:
        info.update(base_contract_sha256=model.base_contract.digest(), base_onnx_sha256=model.base_contract.onnx_sha256,
                    base_source=model.base_source, base_observation_dim=model.base_dim)
    return info


def residual_actor_settings(checkpoint: str | os.PathLike | dict) -> dict | None:
    """``{"mode", "base_path"}`` a residual-task checkpoint was trained with (from its actor's extra state), or
    None for a checkpoint of another actor: eval / export pick the residual task for it. (``residual`` checkpoints load with any
    base_path, even none: the base is inside; ``finetune`` needs its base file to build the model.)"""
    data = checkpoint if isinstance(checkpoint, dict) else torch.load(checkpoint, map_location="cpu",
                                                                       weights_only=True)
    meta = data.get("actor_state_dict", {}).get("residual_meta") if isinstance(data, dict) else None
    info = _meta_dict(meta) if meta is not None else {}
    if info.get("mode") not in MODES:
        return None
    return {"mode": info["mode"], "base_path": info.get("base_path", "")}


def _meta_dict(meta: torch.Tensor) -> dict:
    try:
        return json.loads(bytes(meta.cpu().tolist()).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResidualError(f"the checkpoint's residual_meta is not readable ({e})") from e


def check_base(base_path: str | os.PathLike | None, mode: str = "residual", control_dt: float = RESIDUAL_CONTROL_DT,
               policy_terms=None, activation: str | None = None) -> str:
    """Load the base policy of a `mode` run and check its contract against the residual task's layout
    (`policy_terms`, default the fixed Mimic-Residual-Box-G1 one, and `control_dt`) now, before any env
    is built; returns its absolute path ("" for ``scratch``). ResidualError / ContractError (one line)."""
    if mode not in MODES:
        raise ResidualError(f"mode is {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "scratch":
        if base_path:
            raise ResidualError("mode 'scratch' trains without a base policy; drop --base")
        return ""
    if not base_path:
        raise ResidualError(f"mode {mode!r} needs a base policy (--base CHECKPOINT.pt | EXPORTED_FOLDER)")
    path = str(Path(base_path).resolve())
    base = load_base_policy(path, activation=activation)
    terms = tuple(ObservationTerm(str(t[0]), int(t[1])) for t in policy_terms) if policy_terms \
        else RESIDUAL_POLICY_TERMS
    check_base_contract(base.contract, residual_target(observations=terms, control_dt=control_dt), source=base.source)
    return path


__all__ = ["ResidualMLPModel", "ResidualError", "BaseLoadError", "MODES", "CLASS_PATH", "check_base",
           "residual_provenance", "deterministic_actor_modules", "residual_actor_settings"]

"""The base policy of a residual run: loaded from an rsl_rl checkpoint or an exported ``policy.onnx``,
held as a torch :class:`LayerChain`, validated against the residual task's observation layout.

    base = load_base_policy("logs/rsl_rl/g1_tracking/<run>/model_30000.pt")   # contract.json beside it
    base = load_base_policy("logs/rsl_rl/g1_tracking/<run>/exported/")        # policy.onnx + contract.json
    check_base_contract(base.contract, residual_target(), source=base.source)
    actions = base.chain(obs[:, :base.contract.observation_dim])

A :class:`LayerChain` is a straight sequence of the few ops an rsl_rl MLP actor with its normaliser
folded in consists of: ``sub``/``div``/``add``/``mul`` by a constant, ``linear`` (``F.linear``), and the
activations ``elu``/``relu``/``tanh``. Its tensors are buffers (frozen: never in ``parameters()``, so no
optimizer ever sees them) or parameters (trainable, for the fine-tuning baseline). Its op list rides in
the state dict as an int64 buffer ``spec`` (one row per op; all-tensor, so ``torch.load(weights_only=True)``
and rsl_rl's multi-GPU ``broadcast_parameters`` take it), so a checkpoint holding a chain is
self-contained: an empty chain rebuilds itself from a state dict.

ONNX graphs are converted by a small own converter: ``Concat`` of the inputs, then a chain of
``Sub``/``Div``/``Add``/``Mul`` (by a constant), ``Gemm``/``MatMul``, ``Elu``/``Relu``/``Tanh``/``Identity``;
anything else is refused with a one-line :class:`BaseLoadError` naming the op.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mimiclab.deploy.contract import (
    CONTRACT_FILE,
    Contract,
    ContractError,
    DeploymentTarget,
    check_contract,
    load_contract,
)
from mimiclab.deploy.observations import OBJECT_TERM_NAMES, observation_spec
from mimiclab.deploy.tracking_mdp import FUTURE_OFFSETS, PROPRIOCEPTIVE_ACTOR_TERMS
from mimiclab.robots.g1 import G1

# The policy group of Mimic-Residual-Box-G1: the 9 terms of the proprioceptive Mimic-Track-G1 actor, then
# the object (signals and definitions per term: mimiclab.deploy.tracking_mdp).
RESIDUAL_POLICY_TERMS = observation_spec(PROPRIOCEPTIVE_ACTOR_TERMS + OBJECT_TERM_NAMES, G1.num_joints,
                                         len(FUTURE_OFFSETS))
TRACKING_TERMS = tuple((t.name, t.dim) for t in RESIDUAL_POLICY_TERMS[:len(PROPRIOCEPTIVE_ACTOR_TERMS)])
OBJECT_TERMS = tuple((t.name, t.dim) for t in RESIDUAL_POLICY_TERMS[len(PROPRIOCEPTIVE_ACTOR_TERMS):])
RESIDUAL_CONTROL_DT = 0.02  # s (physics 0.005 s × decimation 4, as Mimic-Track-G1)
NORMALIZER_EPS = 1e-2  # rsl_rl EmpiricalNormalization's default eps (MLPModel does not change it)

ELEMENTWISE = ("sub", "div", "add", "mul")
ACTIVATIONS = ("elu", "relu", "tanh")


class BaseLoadError(ValueError):
    """A base policy that cannot be loaded or does not fit (one-line message)."""


def residual_target(joint_names=None, observations=RESIDUAL_POLICY_TERMS,
                    control_dt: float | None = RESIDUAL_CONTROL_DT) -> DeploymentTarget:
    """The residual task as a :class:`DeploymentTarget` (G1 joints in action order, its policy terms,
    its control period); a base contract is checked against a prefix of it (:func:`check_base_contract`)."""
    if joint_names is None:
        from mimiclab.robots.g1 import G1

        joint_names = G1.joint_names
    return DeploymentTarget(joint_names=tuple(joint_names), observations=tuple(observations), control_dt=control_dt)


def check_base_contract(contract: Contract, target: DeploymentTarget, source: str = "base contract") -> None:
    """ContractError (one line naming the field) unless the base's observation terms are a prefix of the
    target's with equal dims, its joints are the target's in the same order, and its control dt matches."""
    want = tuple(target.observations or ())
    have = tuple(contract.observations)
    if len(have) > len(want):
        extra = have[len(want)]
        raise ContractError(f"{source}: observation term '{extra.name}' is not produced by the target "
                            f"(the base reads {len(have)} terms, the task has {len(want)})")
    import dataclasses

    check_contract(contract, dataclasses.replace(target, observations=want[:len(have)]), source=source)


# --------------------------------------------------------------------------------------------------
# LayerChain


class LayerChain(nn.Module):
    """``x → op_n(… op_1(x))`` over the ops listed in :attr:`ops` (module docstring).

    ``ops`` entries: ``("sub"|"div"|"add"|"mul", width)``, ``("linear", in, out)``, ``("elu", alpha_x1e6)``,
    ``("relu",)``, ``("tanh",)``. Tensors are named ``t{i}`` (elementwise constant / linear weight) and
    ``b{i}`` (linear bias)."""

    def __init__(self, ops: list | None = None, tensors: dict[str, torch.Tensor] | None = None,
                 trainable: bool = False):
        super().__init__()
        self.trainable = bool(trainable)
        self.ops: list[tuple] = []
        self.register_buffer("_device_anchor", torch.zeros(0), persistent=False)
        self.register_buffer("spec", torch.zeros(0, 3, dtype=torch.long))
        if ops:
            self._build(ops, tensors or {})

    # ---- construction
    def _build(self, ops: list, tensors: dict[str, torch.Tensor] | None) -> None:
        dev = self._device_anchor.device
        for name in [n for n in list(self._parameters) + list(self._buffers) if n not in ("_device_anchor", "spec")]:
            delattr(self, name)
        self.ops = [tuple(op) for op in ops]
        self.spec = _encode(self.ops).to(dev)
        for i, op in enumerate(self.ops):
            kind = op[0]
            if kind in ELEMENTWISE:
                shapes = {f"t{i}": (1, int(op[1]))}
            elif kind == "linear":
                shapes = {f"t{i}": (int(op[2]), int(op[1])), f"b{i}": (int(op[2]),)}
            elif kind in ACTIVATIONS:
                shapes = {}
            else:
                raise BaseLoadError(f"unknown layer chain op {kind!r}")
            for name, shape in shapes.items():
                t = tensors.get(name) if tensors else None
                t = torch.zeros(shape) if t is None else t.detach().reshape(shape).clone()
                t = t.to(device=dev, dtype=torch.float32)
                if self.trainable and kind == "linear":
                    self.register_parameter(name, nn.Parameter(t))
                else:  # elementwise constants (the normaliser) are never trained
                    self.register_buffer(name, t)

    @property
    def empty(self) -> bool:
        return not self.ops

    @property
    def in_dim(self) -> int:
        return next(int(op[1]) for op in self.ops if op[0] in ELEMENTWISE + ("linear",))

    @property
    def out_dim(self) -> int:
        return next(int(op[2]) for op in reversed(self.ops) if op[0] == "linear")

    def tensor(self, i: int, which: str = "t") -> torch.Tensor:
        return getattr(self, f"{which}{i}")

    # ---- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.ops:
            raise BaseLoadError("the base policy is not loaded (empty layer chain: give base_path or load a "
                                "checkpoint holding the base)")
        for i, op in enumerate(self.ops):
            kind = op[0]
            if kind == "sub":
                x = x - getattr(self, f"t{i}")
            elif kind == "div":
                x = x / getattr(self, f"t{i}")
            elif kind == "add":
                x = x + getattr(self, f"t{i}")
            elif kind == "mul":
                x = x * getattr(self, f"t{i}")
            elif kind == "linear":
                x = F.linear(x, getattr(self, f"t{i}"), getattr(self, f"b{i}"))
            elif kind == "elu":
                x = F.elu(x, alpha=op[1] / 1e6)
            elif kind == "relu":
                x = F.relu(x)
            elif kind == "tanh":
                x = torch.tanh(x)
        return x

    # ---- splitting (normaliser prefix / network) and widening (fine-tuning with extra inputs)
    def split_normalizer(self) -> tuple[LayerChain, LayerChain]:
        """(leading elementwise ops, the rest), each a new chain with copied tensors."""
        k = next((i for i, op in enumerate(self.ops) if op[0] not in ELEMENTWISE), len(self.ops))
        return self.sub_chain(0, k, trainable=False), self.sub_chain(k, len(self.ops), trainable=self.trainable)

    def sub_chain(self, start: int, stop: int, trainable: bool | None = None) -> LayerChain:
        ops, tensors = [], {}
        for j, i in enumerate(range(start, stop)):
            ops.append(self.ops[i])
            for w in ("t", "b"):
                if hasattr(self, f"{w}{i}"):
                    tensors[f"{w}{j}"] = getattr(self, f"{w}{i}")
        chain = LayerChain(trainable=self.trainable if trainable is None else trainable)
        chain._device_anchor = self._device_anchor.clone()
        if ops:
            chain._build(ops, tensors)
        return chain

    def widened(self, extra_inputs: int, trainable: bool = True) -> LayerChain:
        """A copy whose first op (a linear layer) takes `extra_inputs` more inputs with zero weights: the
        same outputs as long as the extra inputs are ignored, i.e. exactly the same outputs at start."""
        if not self.ops or self.ops[0][0] != "linear":
            raise BaseLoadError("the base network does not start with a linear layer; cannot widen it")
        ops = [tuple(op) for op in self.ops]
        tensors = {n: t for n, t in self._named_tensors()}
        w = tensors["t0"]
        tensors["t0"] = torch.cat([w, torch.zeros(w.shape[0], extra_inputs, device=w.device)], dim=1)
        ops[0] = ("linear", int(ops[0][1]) + extra_inputs, int(ops[0][2]))
        chain = LayerChain(trainable=trainable)
        chain._device_anchor = self._device_anchor.clone()
        chain._build(ops, tensors)
        return chain

    def _named_tensors(self):
        for name in list(self._parameters) + list(self._buffers):
            if name not in ("_device_anchor", "spec"):
                yield name, getattr(self, name)

    def train(self, mode: bool = True) -> LayerChain:
        return super().train(mode and self.trainable)  # a frozen chain stays in eval mode

    # ---- self-contained state dict
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        spec = state_dict.get(prefix + "spec")
        if spec is not None:
            ops = _decode(spec)
            if self.empty and ops:
                self._build(ops, None)  # shapes from the ops; values are loaded next
            elif ops != self.ops:
                raise BaseLoadError(f"the checkpoint's base layers {_describe(ops)} differ from this model's "
                                    f"{_describe(self.ops)}")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


_KINDS = ("sub", "div", "add", "mul", "linear", "elu", "relu", "tanh")


def _encode(ops: list[tuple]) -> torch.Tensor:
    rows = [[_KINDS.index(op[0]) + 1, *(int(v) for v in op[1:]), *([0] * (3 - len(op)))] for op in ops]
    return torch.tensor(rows, dtype=torch.long).reshape(-1, 3)


def _decode(spec: torch.Tensor) -> list[tuple]:
    ops = []
    for k, a, b in spec.cpu().tolist():
        kind = _KINDS[k - 1]
        ops.append((kind, a, b) if kind == "linear" else (kind, a) if kind in ELEMENTWISE + ("elu",) else (kind,))
    return ops


def _describe(ops) -> str:
    return "[" + ", ".join(f"linear {op[1]}→{op[2]}" if op[0] == "linear" else str(op[0]) for op in ops) + "]"


# --------------------------------------------------------------------------------------------------
# Loading


@dataclass
class BasePolicy:
    """A loaded base: its contract, its chain (normaliser folded in; frozen) and where it came from."""

    contract: Contract
    chain: LayerChain
    source: str
    std: torch.Tensor | None = None  # the checkpoint's action std (None for ONNX)


def load_base_policy(path: str | os.PathLike, activation: str | None = None) -> BasePolicy:
    """A base policy from an rsl_rl checkpoint (``*.pt``, with ``contract.json`` in its run folder) or an
    exported policy (a folder with ``policy.onnx`` + ``contract.json``, or the ``policy.onnx`` itself,
    validated with :class:`~mimiclab.deploy.onnx_policy.OnnxPolicy`). BaseLoadError / ContractError on
    bad input. `activation` (checkpoints only) overrides the one read from ``params/agent.yaml``."""
    p = Path(path)
    if p.is_dir() or p.suffix == ".onnx":
        base = _load_onnx_base(p.parent if p.suffix == ".onnx" else p)
    elif p.is_file():
        base = _load_checkpoint_base(p, activation)
    else:
        raise BaseLoadError(f"base policy {path}: no such file or folder")
    if base.chain.in_dim != base.contract.observation_dim:
        raise BaseLoadError(f"{base.source}: the network reads {base.chain.in_dim} inputs but the contract's "
                            f"observations add up to {base.contract.observation_dim}")
    if base.chain.out_dim != base.contract.num_actions:
        raise BaseLoadError(f"{base.source}: the network gives {base.chain.out_dim} actions but the contract "
                            f"has {base.contract.num_actions} joints")
    return base


def _load_checkpoint_base(p: Path, activation: str | None) -> BasePolicy:
    try:
        data = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a one-line user error
        raise BaseLoadError(f"base checkpoint {p}: not a readable rsl_rl checkpoint ({type(e).__name__})") from e
    if not isinstance(data, dict) or "actor_state_dict" not in data:
        raise BaseLoadError(f"base checkpoint {p}: no actor_state_dict (not an rsl_rl 5 PPO checkpoint)")
    contract_path = p.parent / CONTRACT_FILE
    if not contract_path.is_file():
        raise BaseLoadError(f"base checkpoint {p}: no {CONTRACT_FILE} beside it (pass the run's exported/ "
                            "folder instead)")
    contract = load_contract(contract_path)
    sd = data["actor_state_dict"]
    if any(k.startswith(("base.", "head.")) for k in sd):
        raise BaseLoadError(f"base checkpoint {p}: a residual run's checkpoint; export it and use the export as "
                            "a base")
    act = activation or _activation_of_run(p.parent)
    if act not in ACTIVATIONS:
        raise BaseLoadError(f"base checkpoint {p}: activation {act!r} is not supported (supported: "
                            f"{', '.join(ACTIVATIONS)})")
    ops, tensors = [], {}
    if "obs_normalizer._mean" in sd:
        mean = sd["obs_normalizer._mean"].float().reshape(1, -1)
        std = sd["obs_normalizer._std"].float().reshape(1, -1)
        tensors["t0"], tensors["t1"] = mean, std + NORMALIZER_EPS  # EmpiricalNormalization: (x−μ)/(σ+ε)
        ops += [("sub", mean.shape[1]), ("div", mean.shape[1])]
    layers = sorted({int(k.split(".")[1]) for k in sd if k.startswith("mlp.") and k.endswith(".weight")})
    if not layers:
        raise BaseLoadError(f"base checkpoint {p}: actor_state_dict has no mlp.<i>.weight (not an MLPModel actor)")
    for n, idx in enumerate(layers):
        w, b = sd[f"mlp.{idx}.weight"].float(), sd[f"mlp.{idx}.bias"].float()
        i = len(ops)
        ops.append(("linear", w.shape[1], w.shape[0]))
        tensors[f"t{i}"], tensors[f"b{i}"] = w, b
        if n < len(layers) - 1:
            ops.append(("elu", 1_000_000) if act == "elu" else (act,))
    if "distribution.std_param" in sd:
        std = sd["distribution.std_param"].float()
    elif "distribution.log_std_param" in sd:
        std = sd["distribution.log_std_param"].float().exp()
    else:
        std = None
    return BasePolicy(contract, LayerChain(ops, tensors, trainable=False), f"base checkpoint {p}", std)


def _activation_of_run(run_dir: Path) -> str:
    """The actor activation of an Isaac Lab run (``params/agent.yaml``), ``elu`` when not recorded."""
    f = run_dir / "params" / "agent.yaml"
    if f.is_file():
        import re

        text = f.read_text()
        m = re.search(r"^actor:\s*\n((?:[ \t]+.*\n?)*)", text, flags=re.M)
        if m:
            a = re.search(r"^[ \t]+activation:\s*['\"]?([A-Za-z_]+)", m.group(1), flags=re.M)
            if a:
                return a.group(1).lower()
    return "elu"


_ONNX_OPS = ("Concat", "Sub", "Div", "Add", "Mul", "Gemm", "MatMul", "Elu", "Relu", "Tanh", "Identity", "Constant")


def _load_onnx_base(folder: Path) -> BasePolicy:
    from mimiclab.deploy.onnx_policy import POLICY_FILE, OnnxPolicy

    policy = OnnxPolicy.load(folder)  # contract + hash + metadata + inputs checked
    ops, tensors = onnx_to_chain(folder / POLICY_FILE, [t.name for t in policy.contract.observations])
    return BasePolicy(policy.contract, LayerChain(ops, tensors, trainable=False), f"base policy {folder}")


def onnx_to_chain(onnx_path: str | os.PathLike, input_names: list[str]) -> tuple[list, dict]:
    """(ops, tensors) of a :class:`LayerChain` equal to the ONNX graph (module docstring); BaseLoadError
    for a graph outside that form, naming the op."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    g = model.graph
    src = f"base policy {onnx_path}"
    consts = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in g.initializer}
    graph_inputs = [i.name for i in g.input if i.name not in consts]
    if graph_inputs != list(input_names):
        raise BaseLoadError(f"{src}: inputs {graph_inputs} are not the contract's {list(input_names)}")
    nodes = list(g.node)
    for node in nodes:
        if node.op_type not in _ONNX_OPS:
            raise BaseLoadError(f"{src}: ONNX op '{node.op_type}' is not supported by the base converter "
                                f"(supported: {', '.join(_ONNX_OPS)})")
    attrs = {id(n): {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in nodes}
    for node in nodes:
        if node.op_type == "Constant":
            v = attrs[id(node)].get("value")
            if v is None:
                raise BaseLoadError(f"{src}: Constant node without a tensor value")
            consts[node.output[0]] = torch.from_numpy(numpy_helper.to_array(v).copy())
    nodes = [n for n in nodes if n.op_type != "Constant"]
    if nodes and nodes[0].op_type == "Concat" and list(nodes[0].input) == graph_inputs \
            and attrs[id(nodes[0])].get("axis", 0) in (-1, 1):
        cur, nodes = nodes[0].output[0], nodes[1:]
    elif len(graph_inputs) == 1:
        cur = graph_inputs[0]
    else:
        raise BaseLoadError(f"{src}: the graph does not start by concatenating its inputs in order")
    dims = {i.name: i.type.tensor_type.shape.dim[-1].dim_value for i in g.input}
    width = sum(dims[n] for n in graph_inputs)
    ops, tensors = [], {}

    def const(name: str, node) -> torch.Tensor:
        if name not in consts:
            raise BaseLoadError(f"{src}: {node.op_type} node '{node.name}' takes a non-constant second operand")
        return consts[name].float()

    last_matmul = False
    for node in nodes:
        ins = list(node.input)
        if not ins or ins[0] != cur:
            raise BaseLoadError(f"{src}: {node.op_type} node '{node.name}' is not on a single chain (not a plain "
                                "MLP policy)")
        kind, i = node.op_type, len(ops)
        if kind in ("Sub", "Div", "Add", "Mul"):
            c = const(ins[1], node).reshape(-1)
            if c.numel() == 1:
                c = c.expand(width)
            if c.numel() != width:
                raise BaseLoadError(f"{src}: {kind} node '{node.name}' has a constant of {c.numel()} values for "
                                    f"{width}")
            if kind == "Add" and last_matmul:
                tensors[f"b{i - 1}"] = c.clone()  # MatMul + Add → linear with bias
            else:
                ops.append((kind.lower(), width))
                tensors[f"t{i}"] = c.reshape(1, width).clone()
        elif kind in ("Gemm", "MatMul"):
            a = attrs[id(node)]
            w = const(ins[1], node)
            if kind == "MatMul" or not a.get("transB", 0):
                w = w.t()
            if a.get("transA", 0):
                raise BaseLoadError(f"{src}: Gemm node '{node.name}' with transA is not supported")
            w = w.contiguous() * float(a.get("alpha", 1.0)) if a.get("alpha", 1.0) != 1.0 else w.contiguous()
            b = const(ins[2], node).reshape(-1) * float(a.get("beta", 1.0)) if len(ins) > 2 and ins[2] \
                else torch.zeros(w.shape[0])
            if w.shape[1] != width:
                raise BaseLoadError(f"{src}: {kind} node '{node.name}' takes {w.shape[1]} inputs, gets {width}")
            ops.append(("linear", w.shape[1], w.shape[0]))
            tensors[f"t{i}"], tensors[f"b{i}"] = w, b.expand(w.shape[0]).clone()
            width = w.shape[0]
        elif kind == "Elu":
            alpha = float(attrs[id(node)].get("alpha", 1.0))
            ops.append(("elu", int(round(alpha * 1e6))))
        elif kind in ("Relu", "Tanh"):
            ops.append((kind.lower(),))
        elif kind == "Identity":
            pass
        else:  # Concat past the start
            raise BaseLoadError(f"{src}: ONNX op '{kind}' inside the network is not supported")
        last_matmul = kind == "MatMul"
        cur = node.output[0]
    outputs = [o.name for o in g.output]
    if outputs != [cur]:
        raise BaseLoadError(f"{src}: the graph's output {outputs} is not the end of its layer chain")
    if not any(op[0] == "linear" for op in ops):
        raise BaseLoadError(f"{src}: no linear layer in the graph")
    return ops, tensors


def base_contract_json(contract: Contract) -> str:
    return json.dumps(contract.to_dict(), sort_keys=True)


def contract_from_json(text: str) -> Contract:
    return Contract.from_dict(json.loads(text), source="stored base contract")


__all__ = ["BaseLoadError", "BasePolicy", "LayerChain", "RESIDUAL_POLICY_TERMS", "RESIDUAL_CONTROL_DT",
           "TRACKING_TERMS", "OBJECT_TERMS", "residual_target", "check_base_contract", "load_base_policy",
           "onnx_to_chain"]

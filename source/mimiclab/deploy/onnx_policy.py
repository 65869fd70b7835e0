"""``policy.onnx``: the actor with its observation normaliser folded in, one named input per
observation term (the reference motion enters through its terms, never baked in), output
``actions`` (1, J). Its metadata mirrors the contract (``mimiclab.contract`` holds the whole JSON,
``mimiclab.contract_sha256`` its digest), so a policy and a contract that do not belong together
are refused.

    write_policy_onnx(normalizer, mlp, contract, "out/")     # → out/policy.onnx + out/contract.json
    policy = OnnxPolicy.load("out/")                         # validated pair
    actions = policy({"ref_joint_pos": ..., ...})            # (J,) float32
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from mimiclab.deploy.contract import CONTRACT_FILE, Contract, ContractError, load_contract, save_contract

POLICY_FILE = "policy.onnx"
OUTPUT_NAME = "joint_actions"  # the "actions" name is taken by the last-action input
META_CONTRACT = "mimiclab.contract"
META_DIGEST = "mimiclab.contract_sha256"
OPSET = 18


def _graph_module(normalizer, mlp, contract: Contract):
    import torch

    dims = [t.dim * max(t.history_length, 1) for t in contract.observations]

    class PolicyGraph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.normalizer = normalizer
            self.mlp = mlp

        def forward(self, *terms):
            return self.mlp(self.normalizer(torch.cat(terms, dim=-1)))

    return PolicyGraph().to("cpu").eval(), [torch.zeros(1, d) for d in dims]


def write_policy_onnx(normalizer, mlp, contract: Contract, out_dir: str | os.PathLike) -> Contract:
    """Export ``mlp(normalizer(cat(terms)))`` to ``out_dir/policy.onnx`` and the contract (with the
    ONNX's sha256) to ``out_dir/contract.json``; both written atomically. Returns the final contract."""
    import copy

    import onnx
    import torch

    from mimiclab.motion.format import atomic_write

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    module, dummy = _graph_module(copy.deepcopy(normalizer).cpu(), copy.deepcopy(mlp).cpu(), contract)
    names = [t.name for t in contract.observations]
    buf = io.BytesIO()
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter: no onnxscript rewrite
        torch.onnx.export(module, tuple(dummy), buf, input_names=names, output_names=[OUTPUT_NAME],
                          opset_version=OPSET, dynamo=False)
    model = onnx.load_from_string(buf.getvalue())
    meta = {META_CONTRACT: json.dumps(contract.to_dict() | {"onnx_sha256": "", "extra": {}}, sort_keys=True),
            META_DIGEST: contract.digest(), "mimiclab.joint_names": ",".join(contract.joint_names),
            "mimiclab.observation_names": ",".join(names),
            "mimiclab.observation_dims": ",".join(str(t.dim) for t in contract.observations),
            "mimiclab.control_dt": repr(contract.control_dt)}
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    data = model.SerializeToString()
    atomic_write(out / POLICY_FILE, lambda f: f.write(data))
    final = contract.with_onnx(hashlib.sha256(data).hexdigest())
    save_contract(final, out / CONTRACT_FILE)
    return final


def check_onnx(contract: Contract, onnx_path: str | os.PathLike) -> None:
    """Raise ContractError when the ONNX file does not belong to `contract` (hash, metadata, inputs, output)."""
    import onnx

    p = Path(onnx_path)
    if not p.is_file():
        raise ContractError(f"{p}: no such ONNX file")
    data = p.read_bytes()
    if contract.onnx_sha256 and hashlib.sha256(data).hexdigest() != contract.onnx_sha256:
        raise ContractError(f"{p}: sha256 differs from the contract's onnx_sha256 (not the exported policy)")
    try:
        model = onnx.load_from_string(data)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a one-line user error
        raise ContractError(f"{p}: not a readable ONNX model ({type(e).__name__})") from e
    meta = {m.key: m.value for m in model.metadata_props}
    if meta.get(META_DIGEST) != contract.digest():
        raise ContractError(f"{p}: metadata {META_DIGEST} does not match the contract (policy and contract "
                            "come from different exports)")
    inputs = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input]
    want = [t.name for t in contract.observations]
    if [n for n, _ in inputs] != want:
        raise ContractError(f"{p}: inputs are {[n for n, _ in inputs]} but the contract's observations are {want}")
    for (name, shape), t in zip(inputs, contract.observations):
        dim = t.dim * max(t.history_length, 1)
        if shape[-1:] != [dim]:
            raise ContractError(f"{p}: input '{name}' has shape {shape}, the contract says {dim}")
    outs = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output]
    if len(outs) != 1 or outs[0][1][-1:] != [contract.num_actions]:
        raise ContractError(f"{p}: output {outs} is not ({contract.num_actions},) actions")


class OnnxPolicy:
    """A validated ``policy.onnx`` + ``contract.json`` pair run with onnxruntime on the CPU."""

    def __init__(self, contract: Contract, onnx_path: str | os.PathLike):
        import onnxruntime as ort

        check_onnx(contract, onnx_path)
        self.contract = contract
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._dims = {t.name: t.dim * max(t.history_length, 1) for t in contract.observations}

    @staticmethod
    def load(policy_dir: str | os.PathLike) -> OnnxPolicy:
        d = Path(policy_dir)
        if not d.is_dir():
            raise ContractError(f"{d}: no such policy folder (expected {POLICY_FILE} and {CONTRACT_FILE})")
        return OnnxPolicy(load_contract(d / CONTRACT_FILE), d / POLICY_FILE)

    def __call__(self, terms: dict[str, np.ndarray]) -> np.ndarray:
        """Actions (J,) float32 from {term name: (dim,)} arrays."""
        feeds = {}
        for name, dim in self._dims.items():
            if name not in terms:
                raise ContractError(f"observation term '{name}' not provided")
            x = np.asarray(terms[name], dtype=np.float32).reshape(1, -1)
            if x.shape[1] != dim:
                raise ContractError(f"observation term '{name}' has {x.shape[1]} values, the contract says {dim}")
            feeds[name] = x
        return self.session.run([OUTPUT_NAME], feeds)[0][0]

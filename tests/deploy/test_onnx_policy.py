"""policy.onnx: normaliser folded in (same actions as the torch modules), the contract mirrored in the
metadata, and a policy that does not belong to the contract refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from mimiclab.deploy.contract import ContractError, load_contract, save_contract
from mimiclab.deploy.onnx_policy import META_CONTRACT, OnnxPolicy, check_onnx, write_policy_onnx


def _terms(contract, rng):
    return {t.name: rng.standard_normal(t.dim).astype(np.float32) for t in contract.observations}


def test_onnx_matches_the_torch_policy(random_policy_dir):
    d, norm, mlp = random_policy_dir
    policy = OnnxPolicy.load(d)
    rng = np.random.default_rng(1)
    for _ in range(3):
        terms = _terms(policy.contract, rng)
        x = torch.from_numpy(np.concatenate([terms[t.name] for t in policy.contract.observations]))[None]
        with torch.no_grad():
            want = mlp(norm(x))[0].numpy()
        np.testing.assert_allclose(policy(terms), want, rtol=1e-5, atol=1e-5)


def test_metadata_mirrors_the_contract(random_policy_dir):
    import onnx

    d, _, _ = random_policy_dir
    meta = {m.key: m.value for m in onnx.load(str(d / "policy.onnx")).metadata_props}
    mirrored = json.loads(meta[META_CONTRACT])
    contract = load_contract(d)
    assert mirrored["joint_names"] == list(contract.joint_names)
    assert [o["dim"] for o in mirrored["observations"]] == [t.dim for t in contract.observations]
    assert meta["mimiclab.control_dt"] == repr(contract.control_dt)


def test_wrong_term_sizes_are_refused(random_policy_dir):
    policy = OnnxPolicy.load(random_policy_dir[0])
    terms = _terms(policy.contract, np.random.default_rng(0))
    terms["joint_vel"] = terms["joint_vel"][:-1]
    with pytest.raises(ContractError, match="'joint_vel' has 28 values"):
        policy(terms)
    terms["joint_vel"] = np.zeros(29, np.float32)
    with pytest.raises(ContractError, match="'actions' not provided"):
        policy({k: v for k, v in terms.items() if k != "actions"})


def test_mismatched_onnx_is_refused(random_policy_dir, g1_contract, tmp_path):
    d, norm, mlp = random_policy_dir
    other = tmp_path / "other"
    import dataclasses

    write_policy_onnx(norm, mlp, dataclasses.replace(g1_contract, decimation=2), other)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(other / "policy.onnx", mixed / "policy.onnx")
    shutil.copy(d / "contract.json", mixed / "contract.json")
    with pytest.raises(ContractError, match="sha256 differs"):
        OnnxPolicy.load(mixed)
    # same check without the file hash: the metadata digest still tells them apart
    contract = load_contract(d).with_onnx("")
    with pytest.raises(ContractError, match="metadata mimiclab.contract_sha256"):
        check_onnx(contract, mixed / "policy.onnx")
    (mixed / "policy.onnx").write_bytes(b"garbage")
    save_contract(contract, mixed / "contract.json")
    with pytest.raises(ContractError, match="not a readable ONNX"):
        OnnxPolicy.load(mixed)

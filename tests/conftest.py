"""Shared fixtures. Isaac Lab env fixtures live in tests/tasks/conftest.py (built once per session)."""

from __future__ import annotations

import pytest

# mimiclab picks MuJoCo's headless GL backend (MUJOCO_GL) on import, and MuJoCo reads it once, at its
# own first import: import mimiclab before any test module can import mujoco (or mink) itself.
import mimiclab  # noqa: F401,E402


@pytest.fixture(scope="session")
def g1_mjcf():
    """Path of the provisioned G1 MJCF (scripts/setup.sh provisions it)."""
    from mimiclab.robots.assets import g1_mjcf_path

    return g1_mjcf_path()


@pytest.fixture(scope="session")
def g1_tree(g1_mjcf):
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    return g1_kinematic_tree(str(g1_mjcf))


# the actor terms of Mimic-Track-G1 (proprioceptive, 248 numbers) and of Mimic-Track-G1-StateEstimation (245)
G1_TRACKING_TERMS = (("ref_joint_pos", 4 * 29), ("ref_anchor_pos_local", 4 * 3), ("ref_anchor_lin_vel", 3),
                     ("ref_anchor_ori", 4 * 6), ("projected_gravity", 3), ("base_ang_vel", 3), ("joint_pos", 29),
                     ("joint_vel", 29), ("actions", 29))
G1_STATE_ESTIMATION_TERMS = (("ref_joint_pos", 4 * 29), ("ref_anchor_pos", 4 * 3), ("ref_anchor_ori", 4 * 6),
                             ("projected_gravity", 3), ("base_ang_vel", 3), ("joint_pos", 29), ("joint_vel", 29),
                             ("actions", 29))


@pytest.fixture(scope="session")
def g1_contract():
    """A G1 tracking contract (the proprioceptive Mimic-Track-G1 actor) built from the robot table, for
    tests that need one without Isaac Lab; real contracts come from the task's managers
    (``mimiclab.rl.export``)."""
    return _g1_contract("Mimic-Track-G1", G1_TRACKING_TERMS)


@pytest.fixture(scope="session")
def g1_state_estimation_contract():
    """The same for the Mimic-Track-G1-StateEstimation actor (``ref_anchor_pos``: not proprioceptive)."""
    return _g1_contract("Mimic-Track-G1-StateEstimation", G1_STATE_ESTIMATION_TERMS)


def _g1_contract(task, terms):
    from mimiclab.deploy.contract import Contract, ObservationTerm, is_proprioceptive
    from mimiclab.deploy import tracking_mdp as facts
    from mimiclab.deploy.tracking_mdp import term_definition, term_signals
    from mimiclab.robots.g1 import G1

    def per(attr):
        return tuple(float(getattr(j, attr)) for j in G1.joints)

    observations = tuple(ObservationTerm(n, d, 0, term_signals(n), term_definition(n)) for n, d in terms)
    return Contract(
        robot=G1.name, task=task, joint_names=G1.joint_names, kp=per("kp"), kd=per("kd"),
        armature=tuple(j.actuator.armature for j in G1.joints),
        effort_limit=tuple(j.actuator.effort_limit for j in G1.joints), action_scale=per("action_scale"),
        action_offset=per("default_pos"), default_joint_pos=per("default_pos"),
        observations=observations, reference_inputs=tuple(n for n, _ in terms if n.startswith("ref_")),
        anchor_body=facts.ANCHOR_BODY, base_body=facts.BASE_BODY, tracked_bodies=facts.TRACKED_BODIES,
        end_effectors=facts.END_EFFECTORS, termination_thresholds=dict(facts.TERMINATION_THRESHOLDS),
        future_offsets=facts.FUTURE_OFFSETS, physics_dt=0.005, decimation=4, proprioceptive=is_proprioceptive(observations))


@pytest.fixture(scope="session")
def random_policy_dir(g1_contract, tmp_path_factory):
    """policy.onnx + contract.json of a small random actor (normaliser with non-trivial statistics)."""
    import torch

    from mimiclab.deploy.onnx_policy import write_policy_onnx

    torch.manual_seed(0)
    n_in = g1_contract.observation_dim
    norm = _AffineNormalizer(torch.randn(n_in) * 0.1, torch.rand(n_in) + 0.5)
    mlp = torch.nn.Sequential(torch.nn.Linear(n_in, 32), torch.nn.ELU(), torch.nn.Linear(32, g1_contract.num_actions))
    out = tmp_path_factory.mktemp("policy")
    write_policy_onnx(norm, mlp, g1_contract, out)
    return out, norm, mlp


class _AffineNormalizer:
    """(x − mean) / std, as rsl_rl's EmpiricalNormalization computes it (built lazily as a Module)."""

    def __new__(cls, mean, std):
        import torch

        class Norm(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("mean", mean)
                self.register_buffer("std", std)

            def forward(self, x):
                return (x - self.mean) / self.std

        return Norm()


@pytest.fixture(scope="session")
def zero_actor_checkpoint(tmp_path_factory):
    """model_0.pt of an untrained 248→29 rsl_rl MLPModel actor (the tracking runner's layout) whose output
    layer is zero: action = the task's reference offset, i.e. PD onto the next reference frame. It
    tracks a gentle clip to its end and falls on a hard one, with no training run."""
    import torch
    from rsl_rl.models import MLPModel
    from tensordict import TensorDict

    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.zeros(2, 248)}, batch_size=[2])
    actor = MLPModel(obs, {"actor": ["policy"]}, "actor", 29, [512, 256, 128], "elu", True,
                     {"class_name": "GaussianDistribution", "init_std": 1.0})
    torch.nn.init.zeros_(actor.mlp[-1].weight)
    torch.nn.init.zeros_(actor.mlp[-1].bias)
    path = tmp_path_factory.mktemp("zero_actor_run") / "model_0.pt"
    torch.save({"actor_state_dict": actor.state_dict(), "iter": 0}, path)
    return path

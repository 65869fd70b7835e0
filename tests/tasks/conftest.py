"""Isaac Lab fixtures. Only one simulation may exist per process, so every env fixture is
module-scoped and closed at the end of its module; Warp's kernel cache makes later builds fast."""

from __future__ import annotations

from pathlib import Path

import pytest

NUM_ENVS = 4


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/tasks/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.isaaclab)


@pytest.fixture(scope="session")
def num_envs() -> int:
    return NUM_ENVS


@pytest.fixture(scope="session")
def physics_step():
    """step(env): one raw physics step of the robot, bypassing the managers."""

    def step(env) -> None:
        robot = env.scene["robot"]
        robot.write_data_to_sim()
        env.sim.step(render=False)
        env.scene.update(dt=env.physics_dt)

    return step


@pytest.fixture(scope="session")
def mujoco_twin():
    """tests/tasks/mujoco_twin.py: the sim2sim MuJoCo side of the parity tests."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("mujoco_twin", Path(__file__).with_name("mujoco_twin.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tracking_cfg(clips, num_envs: int, task: str = "Mimic-Track-G1"):
    """The task's env cfg on the CPU with `clips`, reset noise and pushes off (tests build on it)."""
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    import mimiclab.tasks  # noqa: F401  (registers the tasks)
    from mimiclab.tasks.physics import configure_device

    cfg = parse_env_cfg(task, device="cpu", num_envs=num_envs)
    configure_device(cfg.sim, "cpu")
    motion = cfg.commands.motion
    motion.motion_files = [str(p) for p in clips]
    motion.pose_range, motion.velocity_range, motion.joint_position_range = {}, {}, (0.0, 0.0)
    cfg.events.push_robot = None
    return cfg


@pytest.fixture(scope="session")
def make_tracking_cfg():
    return tracking_cfg


@pytest.fixture(scope="session")
def two_clips(tmp_path_factory) -> list[Path]:
    """walk.npz and arm_wave.npz (G1, 50 fps, about 4 s and 3 s) from the synthetic BVH samples."""
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.synthetic import write_samples

    root = tmp_path_factory.mktemp("clips")
    bvh = [str(p) for p in write_samples(root / "src") if p.suffix == ".bvh"]
    results = retarget_files(bvh, str(root / "g1"), RetargetSettings(), progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    return [root / "g1" / "walk.npz", root / "g1" / "arm_wave.npz"]

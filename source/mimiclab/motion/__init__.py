"""Motion format (.npz keyed by names), readers/writers, motion library, forward kinematics.

    save_motion(path, motion) / load_motion(path)     ours, plus BeyondMimic/mjlab npz and G1 CSV
    motion_from_joint_trajectory(...)                 root + joints → bodies and velocities (our FK)
    resample_motion(motion, fps)
"""

from mimiclab.motion.format import FORMAT_VERSION, MotionData, load_motion, save_motion  # noqa: F401


def __getattr__(name):  # the FK-based helpers import torch and the kernels: load them on demand
    if name in ("motion_from_joint_trajectory", "resample_motion"):
        from mimiclab.motion import kinematics

        return getattr(kinematics, name)
    if name in ("read_g1_csv", "write_g1_csv"):
        from mimiclab.motion import g1_csv

        return getattr(g1_csv, name)
    raise AttributeError(f"module 'mimiclab.motion' has no attribute '{name}'")

"""``ResidualEnv``: Isaac Lab's ``ManagerBasedRLEnv`` that first sizes the object from the motion files.

The scene is built before any manager loads the clips, so the object's primitive (box or cylinder,
size and mass) is read here from the first clip's ``object_*`` arrays and written into the scene
config; the motion library then checks that every clip carries the same object. With
``cfg.object_from_motion = False`` the scene's object config is used as given.
"""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["ResidualEnv", "object_spawn_cfg", "read_object_spec"]


def read_object_spec(motion_files):
    """The ObjectSpec of the first clip among `motion_files` (paths, folders, globs); ValueError when
    there are no clips or the first has no object."""
    from mimiclab.motion.clip_loading import expand_motion_paths, load_clip
    from mimiclab.motion.library import object_spec_from_arrays

    files = expand_motion_paths([str(f) for f in (motion_files or []) if str(f).strip()]) if motion_files else []
    if not files:
        raise ValueError("residual task: no motion files; set MIMICLAB_MOTION=clip.npz[:dir/:glob...] "
                         "or env.commands.motion.motion_files=[...]")
    motion = load_clip(files[0])
    if "object_pos_w" not in motion.objects:
        raise ValueError(f"{files[0]}: clip has no object (object_* arrays), but the residual task needs one")
    return object_spec_from_arrays(motion.objects, str(files[0]))


def object_spawn_cfg(spec) -> sim_utils.SpawnerCfg:
    """A rigid primitive with the spec's size, mass and collision (spawns on Newton, kitless, CPU)."""
    common = dict(rigid_props=sim_utils.RigidBodyPropertiesCfg(),
                  mass_props=sim_utils.MassPropertiesCfg(mass=float(spec.mass)),
                  collision_props=sim_utils.CollisionPropertiesCfg(),
                  visual_material=sim_utils.PreviewSurfaceCfg(diffuse_color=(0.8, 0.5, 0.2)))
    if spec.shape == "box":
        return sim_utils.CuboidCfg(size=tuple(float(x) for x in spec.size), **common)
    if spec.shape == "cylinder":
        return sim_utils.CylinderCfg(radius=float(spec.size[0]), height=float(spec.size[1]), axis="Z", **common)
    raise ValueError(f"residual task: object shape '{spec.shape}' has no scene primitive yet (box, cylinder)")


class ResidualEnv(ManagerBasedRLEnv):
    """``ManagerBasedRLEnv`` with the scene's object sized from the clips (module docstring)."""

    def __init__(self, cfg, render_mode: str | None = None, **kwargs):
        if getattr(cfg, "object_from_motion", True):
            spec = read_object_spec(cfg.commands.motion.motion_files)
            cfg.scene.object.spawn = object_spawn_cfg(spec)
        super().__init__(cfg, render_mode=render_mode, **kwargs)

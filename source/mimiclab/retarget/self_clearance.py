"""Self-collision clearance: move limb targets out of the robot's own body, then solve again.

The G1's torso and hips are wide for its limbs, so a human pose with hands at the thighs, elbows
against the ribs or feet together makes the robot overlap itself. After a solve, MuJoCo's
collision pipeline finds every overlapping pair of collision geoms per frame; the limb target
that owns each geom (wrist, elbow, knee, ankle — see ``LIMB_OF_BODY``) is pushed along the
contact normal by the overlap plus ``MARGIN``, the push is spread over neighbouring frames
(so the motion does not snap), and the clip is solved again. Pushes accumulate over rounds; a
pair of two limbs (knee against knee) shares the push. Only frames that collide move.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MARGIN = 0.01  # m: clearance added beyond the measured overlap
SPREAD_FRAMES = 3  # a push reaches this many frames either side, tapering off
ROUNDS = 6  # solve → measure → push rounds at most

# G1 body → the role whose IK target moves it (bodies not listed are not pushed)
LIMB_OF_BODY = {
    **{f"{s}_{b}": f"{s}_wrist" for s in ("left", "right") for b in ("wrist_roll_link", "wrist_pitch_link", "wrist_yaw_link")},
    **{f"{s}_{b}": f"{s}_elbow" for s in ("left", "right") for b in ("elbow_link", "shoulder_yaw_link")},
    **{f"{s}_knee_link": f"{s}_knee" for s in ("left", "right")},  # the hip links move little with the knee target:
    # a hand against a hip is pushed as a hand against the pelvis (the whole push on the hand)
    **{f"{s}_{b}": f"{s}_ankle" for s in ("left", "right") for b in ("ankle_pitch_link", "ankle_roll_link")},
}


@lru_cache(maxsize=1)
def _body_roles() -> dict[int, str]:
    """Collision-model body id → the limb role of LIMB_OF_BODY that moves it."""
    import mujoco

    from mimiclab.retarget.robot_collisions import collision_model

    model, _ = collision_model()
    names = {b: mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in range(model.nbody)}
    return {b: LIMB_OF_BODY[n] for b, n in names.items() if n in LIMB_OF_BODY}


def collision_pushes(motion) -> tuple[dict[str, np.ndarray], int]:
    """Per limb role (T,3) world displacement that separates the overlapping geoms of each frame,
    and the number of colliding frames."""
    from mimiclab.retarget.robot_collisions import collision_model, penetrating_contacts

    model, _ = collision_model()
    body_role = _body_roles()
    T = motion.num_frames
    push = {role: np.zeros((T, 3)) for role in set(LIMB_OF_BODY.values())}
    contacts = penetrating_contacts(motion)
    for t, (g1, g2), dist, normal in zip(contacts.frame, contacts.geom, contacts.dist, contacts.normal):
        r1 = body_role.get(int(model.geom_bodyid[g1]))
        r2 = body_role.get(int(model.geom_bodyid[g2]))
        depth = -dist + MARGIN
        share = 0.5 if (r1 is not None and r2 is not None) else 1.0
        for role, sign in ((r1, -1.0), (r2, 1.0)):
            if role is None:
                continue
            d = sign * share * depth * normal
            cur = push[role][t]
            # several contacts of one limb: keep the largest push per axis direction
            push[role][t] = np.where(np.abs(d) > np.abs(cur), d, cur)
    return push, int(np.unique(contacts.frame).size)


def spread(push: np.ndarray, frames: int = SPREAD_FRAMES) -> np.ndarray:
    """(T,3) pushes spread to ±frames neighbours with a triangular taper, keeping each frame's
    largest-magnitude push per axis (a frame that collides keeps at least its own push)."""
    out = push.copy()
    T = push.shape[0]
    for k in range(1, frames + 1):
        w = 1.0 - k / (frames + 1)
        for shifted in (np.concatenate((push[k:], np.zeros((min(k, T), 3))))[:T],
                        np.concatenate((np.zeros((min(k, T), 3)), push[:-k] if k < T else push[:0]))[:T]):
            cand = w * shifted
            out = np.where(np.abs(cand) > np.abs(out), cand, out)
    return out

"""Find the human body in any skeleton tree: roles from topology and geometry, confirmed by names.

    found = infer_skeleton(names, parents, positions, where="clip.bvh")
    found.roles     # {"pelvis": "Hips", "left_knee": "LeftLeg", ...}
    found.mirrored  # the file is left-handed (names say left where geometry says right)

Topology: the two legs are the most alike pair of long subtrees at one joint (the pelvis), the two
arms the most alike pair at a joint inside the third branch (the chest); finger, face and prop
subtrees are ignored. Along a limb, the two longest consecutive bones are thigh/shin (upper arm/
forearm), so clavicles, hip bones (CMU ``LHipJoint``), dummies and hands fall where they belong
whatever the joints are called (MocapBank's ``LeftShoulder`` *is* the upper arm). Left and right:
the joint names when they say so, else geometry (left = up × forward, forward from the toes or
the knees); when both exist and disagree the file is left-handed and is mirrored.
Quadrupeds (spine level with the ground), chains and partial bodies are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mimiclab.retarget.joint_names import is_head, is_ignored, is_pass_through, side_of

MAX_SAMPLE_FRAMES = 64
MIN_LIMB_REACH = 0.2  # fraction of the body size a leg/arm subtree must reach
MIN_PAIR_SIMILARITY = 0.75  # shorter / longer reach of the two limbs of a pair
MIN_SPINE_UPRIGHT = 0.5  # cos(angle) between pelvis→chest and up: quadrupeds are near 0
COINCIDENT = 0.01  # fraction of the body size under which two joints are the same point


@dataclass
class InferredSkeleton:
    """roles: {role: source joint name}; up (3,): body up direction in file coordinates (unit);
    mirrored: names and geometry disagree on the side (left-handed file: mirror it);
    sides_from: 'names' | 'geometry'; ignored: joints whose subtrees play no role."""

    roles: dict[str, str]
    up: np.ndarray
    mirrored: bool
    sides_from: str
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Tree:
    def __init__(self, names: list[str], parents: np.ndarray, positions: np.ndarray):
        self.names = list(names)
        self.parents = np.asarray(parents, dtype=np.int64)
        J = len(self.names)
        T = positions.shape[0]
        frames = np.unique(np.linspace(0, T - 1, min(T, MAX_SAMPLE_FRAMES)).round().astype(np.int64))
        self.pos = np.asarray(positions[frames], dtype=np.float64)  # (F,J,3)
        self.children: list[list[int]] = [[] for _ in range(J)]
        for j, p in enumerate(self.parents):
            if p >= 0:
                self.children[p].append(j)
        bone = np.zeros(J)
        has_parent = self.parents >= 0
        d = np.linalg.norm(self.pos[:, has_parent] - self.pos[:, self.parents[has_parent]], axis=-1)
        bone[has_parent] = _nanmedian(d, axis=0)
        self.bone = np.nan_to_num(bone)
        # the body's size: joints on rigid bones only (a static root at the origin, or a root joint
        # whose child translates, would measure the distance travelled, not the body)
        rigid = np.zeros(J, bool)
        spread = np.nanmax(d, axis=0) - np.nanmin(d, axis=0) if d.size else np.zeros(0)
        rigid[has_parent] = spread <= 0.01 * np.maximum(bone[has_parent], 1e-9) + 1e-9
        body = self.pos[:, rigid] if rigid.sum() >= 3 else self.pos
        extent = np.nanmax(body, axis=1) - np.nanmin(body, axis=1)  # (F,3)
        self.size = float(_nanmedian(np.linalg.norm(extent, axis=-1)))
        self.ignored = np.array([is_ignored(n) for n in self.names])
        self.reach_below = self._reach()  # farthest path length below each joint (excluding its bone)

    def _reach(self) -> np.ndarray:
        reach = np.zeros(len(self.names))
        for j in reversed(self._order()):
            kids = [c for c in self.children[j] if not self.ignored[c]]
            reach[j] = max((self.bone[c] + reach[c] for c in kids), default=0.0)
        return reach

    def _order(self) -> list[int]:
        order, stack = [], [j for j, p in enumerate(self.parents) if p < 0]
        while stack:
            j = stack.pop()
            order.append(j)
            stack.extend(self.children[j])
        return order

    def limb_reach(self, child: int) -> float:
        return float(self.bone[child] + self.reach_below[child])

    def is_ancestor(self, a: int, b: int) -> bool:
        while b >= 0:
            if b == a:
                return True
            b = int(self.parents[b])
        return False

    def main_path(self, start: int) -> list[int]:
        """start, then down the non-ignored child with the farthest reach, to a leaf."""
        path = [start]
        while True:
            kids = [c for c in self.children[path[-1]] if not self.ignored[c]]
            if not kids:
                return path
            path.append(max(kids, key=self.limb_reach))

    def median(self, j: int) -> np.ndarray:
        return _nanmedian(self.pos[:, j], axis=0)


@dataclass
class _Pair:
    joint: int
    a: int
    b: int
    similarity: float
    reach: float


def _limb_pairs(tree: _Tree) -> list[_Pair]:
    """At every joint, its most alike pair of long non-ignored child subtrees."""
    pairs = []
    for j, kids in enumerate(tree.children):
        kids = [c for c in kids if not tree.ignored[c] and tree.limb_reach(c) >= MIN_LIMB_REACH * tree.size]
        best = None
        for i, a in enumerate(kids):
            for b in kids[i + 1:]:
                ra, rb = tree.limb_reach(a), tree.limb_reach(b)
                sim = min(ra, rb) / max(ra, rb)
                if sim >= MIN_PAIR_SIMILARITY and (best is None or sim > best.similarity):
                    best = _Pair(j, a, b, sim, min(ra, rb))
        if best is not None:
            pairs.append(best)
    return pairs


def _legs_and_arms(tree: _Tree, where: str) -> tuple[_Pair, _Pair]:
    pairs = _limb_pairs(tree)
    best, best_score = None, -1.0
    for legs in pairs:
        for arms in pairs:
            if arms.joint == legs.joint or not tree.is_ancestor(legs.joint, arms.joint):
                continue
            if tree.is_ancestor(legs.a, arms.joint) or tree.is_ancestor(legs.b, arms.joint):
                continue  # the arms must hang from the third branch, not from a leg
            score = legs.similarity + arms.similarity
            if score > best_score:
                best, best_score = (legs, arms), score
    if best is None:
        raise ValueError(f"{where}: no human body found in the skeleton: it needs two legs branching at "
                         f"a pelvis and two arms branching at a chest above it ({len(tree.names)} joints, "
                         f"{len(pairs)} limb pair(s) found; pass --skeleton map.yaml)")
    return best


def _segments(tree: _Tree, path: list[int]) -> tuple[list[int], np.ndarray]:
    """Joints along `path` with coincident and pass-through joints dropped, and the bone lengths
    (median over frames) between consecutive kept joints."""
    keep = [path[0]]
    for k, j in enumerate(path[1:], 1):
        last = k == len(path) - 1
        if is_pass_through(tree.names[j]) and not last:
            continue
        d = _nanmedian(np.linalg.norm(tree.pos[:, j] - tree.pos[:, keep[-1]], axis=-1))
        if d < COINCIDENT * tree.size:
            continue
        keep.append(j)
    lengths = np.array([_nanmedian(np.linalg.norm(tree.pos[:, b] - tree.pos[:, a], axis=-1))
                        for a, b in zip(keep[:-1], keep[1:])])
    return keep, lengths


def _limb_roles(tree: _Tree, branch: int, child: int, where: str, limb: str) -> list[int]:
    """[root joint, middle joint, end joint, next joint or -1] of a leg/arm: the two longest
    consecutive bones (thigh+shin / upper arm+forearm) along the limb's main path."""
    joints, lengths = _segments(tree, [branch] + tree.main_path(child))
    if len(lengths) < 2:
        raise ValueError(f"{where}: the {limb} starting at '{tree.names[child]}' has fewer than two bones")
    k = int(np.argmax(lengths[:-1] + lengths[1:]))
    after = joints[k + 3] if k + 3 < len(joints) else -1
    return [joints[k], joints[k + 1], joints[k + 2], after]


def _names_side(tree: _Tree, root: int) -> str | None:
    """'left' / 'right' by majority of the names in the subtree under `root`, None if silent/split."""
    votes = {"left": 0, "right": 0}
    stack = [root]
    while stack:
        j = stack.pop()
        s = side_of(tree.names[j])
        if s:
            votes[s] += 1
        stack.extend(tree.children[j])
    if votes["left"] == votes["right"]:
        return None
    return max(votes, key=votes.get)


def _nanmedian(x: np.ndarray, axis=None):
    """np.nanmedian, through np.median when nothing is NaN (the common case, many times faster)."""
    x = np.asarray(x)
    return np.median(x, axis=axis) if not np.isnan(x).any() else np.nanmedian(x, axis=axis)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 1e-12 else v


def _forward(tree: _Tree, legs: list[list[int]], up: np.ndarray) -> np.ndarray | None:
    """Body forward (unit, ⟂ up) from ankle→toe, else from the knees' bend; None if unclear."""
    def horizontal(v):
        return v - (v @ up) * up

    toe_dirs = [horizontal(_nanmedian(tree.pos[:, leg[3]] - tree.pos[:, leg[2]], axis=0))
                for leg in legs if leg[3] >= 0]
    if toe_dirs and np.linalg.norm(sum(toe_dirs)) > 0.03 * tree.size:
        return _unit(sum(toe_dirs))
    bends = [horizontal(_nanmedian(tree.pos[:, leg[1]] - 0.5 * (tree.pos[:, leg[0]] + tree.pos[:, leg[2]]),
                                     axis=0)) for leg in legs]
    if np.linalg.norm(sum(bends)) > 0.01 * tree.size:
        return _unit(sum(bends))
    return None


def infer_skeleton(joint_names: list[str], parents: np.ndarray, positions: np.ndarray,
                   where: str = "input", rest_positions: np.ndarray | None = None) -> InferredSkeleton:
    """Roles of a skeleton tree (module docstring). positions (T,J,3) global, any units/axes;
    rest_positions (J,3): the zero-rotation pose, consulted when the motion itself is not upright.
    ValueError naming `where` when no biped body is found."""
    tree = _Tree(joint_names, parents, positions)
    if not np.isfinite(tree.size) or tree.size <= 0:
        raise ValueError(f"{where}: the skeleton has no extent (all joints at one point)")
    leg_pair, arm_pair = _legs_and_arms(tree, where)
    pelvis, chest = leg_pair.joint, arm_pair.joint
    legs = [_limb_roles(tree, pelvis, c, where, "leg") for c in (leg_pair.a, leg_pair.b)]
    arms = [_limb_roles(tree, chest, c, where, "arm") for c in (arm_pair.a, arm_pair.b)]

    feet = 0.5 * (tree.pos[:, legs[0][2]] + tree.pos[:, legs[1][2]])
    up = _unit(_nanmedian(tree.pos[:, chest] - feet, axis=0))
    upright = np.mean(_upright(tree.pos, pelvis, chest, legs, arms)) >= 0.5
    if not upright and rest_positions is not None:
        upright = bool(_upright(np.asarray(rest_positions, dtype=np.float64), pelvis, chest, legs, arms))
    if not upright:
        raise ValueError(f"{where}: not a biped: the spine ('{tree.names[pelvis]}' → '{tree.names[chest]}') is not "
                         "upright above the legs with the hands off the ground, in the motion nor in the rest "
                         "pose (a quadruped?)")

    forward = _forward(tree, legs, up)
    left_dir = np.cross(up, forward) if forward is not None else None
    sides, sides_from, mirrored, notes = {}, "names", False, []
    for kind, pair, limbs in (("leg", leg_pair, legs), ("arm", arm_pair, arms)):
        by_name = (_names_side(tree, pair.a), _names_side(tree, pair.b))
        geo = None
        if left_dir is not None:
            d = float((tree.median(limbs[0][0]) - tree.median(limbs[1][0])) @ left_dir)
            if abs(d) > COINCIDENT * tree.size:
                geo = ("left", "right") if d > 0 else ("right", "left")
        if by_name[0] and by_name[1] and by_name[0] != by_name[1]:
            sides[kind] = by_name
            if geo is not None and geo != by_name:
                mirrored = True
        elif geo is not None:
            sides[kind] = geo
            sides_from = "geometry"
        else:
            raise ValueError(f"{where}: cannot tell the left {kind} from the right one: the names do not say "
                             "and the pose gives no forward direction (pass --skeleton map.yaml)")
    if mirrored:
        notes.append("names and geometry disagree on left/right: a left-handed file, mirrored")

    roles = {"pelvis": joint_names[pelvis]}
    for kind, limbs, parts in (("leg", legs, ("hip", "knee", "ankle", "toe")),
                               ("arm", arms, ("shoulder", "elbow", "wrist", None))):
        for side, limb in zip(sides[kind], limbs):
            for part, j in zip(parts, limb):
                if part is not None and j >= 0:
                    roles[f"{side}_{part}"] = joint_names[j]
    head = _head(tree, chest, arm_pair, up)
    if head is not None:
        roles["head"] = joint_names[head]
    ignored = [n for n, ig in zip(joint_names, tree.ignored) if ig]
    return InferredSkeleton(roles, up, mirrored, sides_from, ignored, notes)


def _upright(pos: np.ndarray, pelvis: int, chest: int, legs: list[list[int]], arms: list[list[int]]) -> np.ndarray:
    """Poses (...,J,3) → (...) bool: along the coordinate axis nearest pelvis − feet, the spine rises
    (cos ≥ 0.5) and the wrists are well above the ankles (≥ a quarter leg length) — a quadruped fails both."""
    feet = 0.5 * (pos[..., legs[0][2], :] + pos[..., legs[1][2], :])
    v = pos[..., pelvis, :] - feet
    ok = np.isfinite(v).all(axis=-1) & (np.linalg.norm(v, axis=-1) >= 1e-9)
    v = np.where(ok[..., None], v, 1.0)
    i = np.argmax(np.abs(v), axis=-1)
    axis = np.sign(np.take_along_axis(v, i[..., None], axis=-1)) * (np.arange(3) == i[..., None])
    leg = np.mean([np.linalg.norm(pos[..., l[1], :] - pos[..., l[0], :], axis=-1)
                   + np.linalg.norm(pos[..., l[2], :] - pos[..., l[1], :], axis=-1) for l in legs], axis=0)
    hands = 0.5 * (pos[..., arms[0][2], :] + pos[..., arms[1][2], :])
    spine = pos[..., chest, :] - pos[..., pelvis, :]
    norm = np.linalg.norm(spine, axis=-1)
    rises = (spine * axis).sum(-1) / np.where(norm > 1e-12, norm, 1.0)  # a zero spine rises by ~0: not upright
    with np.errstate(invalid="ignore"):
        return ok & (rises >= MIN_SPINE_UPRIGHT) & (((hands - feet) * axis).sum(-1) >= 0.25 * leg)


def _head(tree: _Tree, chest: int, arms: _Pair, up: np.ndarray) -> int | None:
    """The head joint: in the chest's branch that rises highest (not an arm), the joint named
    'head' if any, else the last joint below an end/top joint, else the last one."""
    branches = [c for c in tree.children[chest] if c not in (arms.a, arms.b) and not tree.ignored[c]]
    if not branches:
        return None
    top = max(branches, key=lambda c: float(tree.median(tree.main_path(c)[-1]) @ up))
    path = tree.main_path(top)
    named = [j for j in path if is_head(tree.names[j])]
    if named:
        return named[0]
    if len(path) >= 2 and is_pass_through(tree.names[path[-1]]):
        return path[-2]
    return path[-1]

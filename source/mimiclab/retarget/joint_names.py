"""Name evidence for skeleton inference: joint names of any mocap vocabulary → tokens, side, kind.

Namespaces (``mixamorig:``, ``mixamorig7:``, ``Armature|``), rig prefixes (``Bip01_``,
``Bip001 ``, ``Character1_``), case, camelCase and separators are stripped, so ``mixamorig7:LeftArm``,
``Bip01 L UpperArm``, ``L_Shoulder``, ``LHipJoint``, ``upperarm_l`` and ``UpperArm_L`` all give
their side and body-part tokens. Vocabularies seen in the wild: Mixamo, Xsens MVN, CMU, LAFAN1 /
Ubisoft, Perception Neuron, MocapBank/Biovision, SMPL, Bandai Namco, Geno/ZeroEGGS, 3ds Max Biped,
Unreal/Unity humanoids.
"""

from __future__ import annotations

import re

_RIG_PREFIX = re.compile(r"^(mixamorig\d*|bip0*\d*|character\d*|armature|skeleton|rig|def|b|jnt|joint|j)(?=[_\s.\-]|$)",
                         re.IGNORECASE)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

# body parts whose subtrees are not part of the retargeted body (never a role)
IGNORED_PARTS = frozenset({
    "thumb", "index", "middle", "ring", "pinky", "pinkie", "little", "finger", "fingers", "fingerbase",
    "inhand", "eye", "eyes", "eyelid", "jaw", "tongue", "teeth", "brow", "lip", "cheek", "nose", "ear",
    "prop", "weapon", "sword", "gun", "item", "attach", "holster",
})
# helper joints that only pass a bone through (twist bones, dummies): never a role when avoidable
PASS_THROUGH = frozenset({"twist", "roll", "dummy", "helper", "share", "adjust", "nub", "end", "site", "tip",
                          "top", "null", "offset"})


def strip_namespace(name: str) -> str:
    """'mixamorig7:LeftArm' → 'LeftArm'; 'Armature|Hips' → 'Hips'; 'Bip01 L Thigh' → 'L Thigh'."""
    base = re.split(r"[:|/]", name)[-1]
    prev = None
    while prev != base:
        prev = base
        base = _RIG_PREFIX.sub("", base).lstrip("_ .-")
    return base or name


def tokens(name: str) -> list[str]:
    """Lower-case tokens of a joint name: 'LHipJoint' → ['l', 'hip', 'joint'],
    'mixamorig:LeftUpLeg' → ['left', 'up', 'leg'], 'Hand_L' → ['hand', 'l']."""
    out: list[str] = []
    for part in re.split(r"[_\s.\-]+", strip_namespace(name)):
        out.extend(t.lower() for t in _CAMEL.findall(part))
    return out


def side_of(name: str) -> str | None:
    """'left' | 'right' | None from a joint name's tokens (L/R as a token, Left/Right anywhere)."""
    toks = tokens(name)
    left = any(t in ("l", "left", "lft") or t.startswith("left") for t in toks)
    right = any(t in ("r", "right", "rt", "rgt") or t.startswith("right") for t in toks)
    if left == right:
        return None
    return "left" if left else "right"


def is_ignored(name: str) -> bool:
    """Fingers, face, props: joints whose subtrees play no role."""
    toks = tokens(name)
    return any(t in IGNORED_PARTS for t in toks) or "inhand" in "".join(toks)


def is_pass_through(name: str) -> bool:
    """Twist/roll/dummy/end joints: a role goes to a neighbour when one is available."""
    return any(t in PASS_THROUGH for t in tokens(name))


def is_head(name: str) -> bool:
    """The head joint itself (not its end site / top / nub)."""
    toks = tokens(name)
    return "head" in toks and not any(t in PASS_THROUGH for t in toks)

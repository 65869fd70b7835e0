"""AMASS / SMPL parameter files → the 22 SMPL body joints, through the ``smplx`` package.

An AMASS npz holds ``poses`` (T,156) axis-angle (SMPL-H: root, 21 body joints, 2 × 15 hand joints;
(T,72) SMPL), ``trans`` (T,3) [m], ``betas`` (16,) or (T,16), ``gender``, ``mocap_framerate``
(or ``mocap_frame_rate``), sometimes ``surface_model_type`` and ``dmpls`` (soft-tissue, unused).
Joints need the user's licence-gated body model (never downloaded, never shipped), passed as
``SourceOptions.body_model``: a model .npz or a folder holding one in a usual layout
(``smplh/male/model.npz``, ``male/model.npz``, ``SMPLH_MALE.npz``, ``smplh/SMPLH_NEUTRAL.npz``, ...).
Pickled models (.pkl) are refused: the .npz is read with allow_pickle=False and its arrays go to
smplx through ``data_struct``. Output: Z-up (AMASS is Z-up), metres, SMPL joint names.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from mimiclab.motion.input_warning import warn_input
from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.sources.keypoint_layouts import SMPL22_JOINTS, SMPL22_PARENTS
from mimiclab.retarget.sources.options import SourceOptions

MODEL_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
_POSE_DIMS = {156: "smplh", 72: "smpl", 165: "smplx"}
_JOINTS = {"smplh": 52, "smpl": 24, "smplx": 55}
_FPS_KEYS = ("mocap_framerate", "mocap_frame_rate", "fps", "frame_rate")
_CHUNK = 256  # frames per smplx forward pass (float32, as smplx stores the model)
_SHAPE_SPACE = 300  # smplx caps models with fewer shape components at 10 betas; pad to keep AMASS's 16
NO_MODEL = ("AMASS parameters need the user's licence-gated SMPL-H body model (never downloaded, never "
            "shipped): pass --body-model DIR (a folder with e.g. smplh/male/model.npz)")


def is_amass_keys(keys) -> bool:
    """An npz with SMPL parameters: ``poses`` and ``trans``."""
    return "poses" in keys and "trans" in keys


def _text(value) -> str:
    arr = np.asarray(value)
    v = arr.reshape(-1)[0].item() if arr.size else ""
    return (v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)).strip().lower()


def _load_npz(where: str, path: Path) -> dict[str, np.ndarray]:
    """All arrays of an npz, allow_pickle=False; one-line ValueError for object arrays / bad files."""
    from mimiclab.retarget.sources.keypoints import load_npz_fields

    return load_npz_fields(where, path)


def model_candidates(folder: Path, model_type: str, gender: str) -> list[Path]:
    """Where a body model of `model_type` ("smplh", "smpl", "smplx") and `gender` may be."""
    t, T, G = model_type, model_type.upper(), gender.upper()
    names = [f"{t}/{gender}/model", f"{gender}/model", f"{t}/{T}_{G}", f"{T}_{G}", f"{t}/{t}_{gender}",
             f"{t}_{gender}", f"{t}/{G}/model", f"{T}/{T}_{G}", f"{t}/model_{gender}"]
    return [folder / f"{n}.npz" for n in names]


def find_body_model(where: str, body_model: str | os.PathLike, model_type: str, gender: str) -> tuple[Path, str]:
    """(model file, gender used): `body_model` itself if a file, else the first candidate in the
    folder for `gender`, then for "neutral" (with a warning). Refuses .pkl models."""
    root = Path(body_model)
    if root.is_file():
        files = [(root, gender)]
    elif root.is_dir():
        genders = [gender] + ([] if gender == "neutral" else ["neutral"])
        files = [(p, g) for g in genders for p in model_candidates(root, model_type, g)]
    else:
        raise ValueError(f"{where}: body model {str(root)[:120]!r} does not exist ({NO_MODEL})")
    for p, g in files:
        if p.suffix.lower() == ".pkl" or (not p.is_file() and p.with_suffix(".pkl").is_file()):
            pkl = p if p.suffix.lower() == ".pkl" else p.with_suffix(".pkl")
            raise ValueError(f"{where}: body model {pkl} is a pickle, which mimiclab never loads: use the .npz "
                             "version of the model (e.g. the AMASS SMPL-H npz files)")
        if p.is_file():
            if g != gender:
                warn_input(f"{where}: no {gender} {model_type} model in {root}: using the {g} model {p}")
            return p, g
    raise ValueError(f"{where}: no {model_type} model for gender {gender!r} in {root} (looked for "
                     f"{', '.join(str(p.relative_to(root)) for p, _ in files[:4])}, ...)")


def load_body_model(where: str, path: Path, model_type: str) -> dict[str, np.ndarray]:
    """The model's arrays (allow_pickle=False), checked for the keys smplx needs."""
    data = _load_npz(f"{where}: body model {path}", path)
    missing = [k for k in MODEL_KEYS if k not in data]
    if missing:
        raise ValueError(f"{where}: body model {path} lacks {', '.join(missing)} (not an SMPL-family model npz)")
    J = _JOINTS[model_type]
    if data["kintree_table"].shape != (2, J) or data["J_regressor"].shape[0] != J:
        raise ValueError(f"{where}: body model {path} has {data['J_regressor'].shape[0]} joints, "
                         f"a {model_type} model has {J}")
    return data


def _struct(data: dict[str, np.ndarray], model_type: str):
    """smplx's data_struct: the model arrays, shapedirs padded to 300 components, and (SMPL-H)
    zero hand PCA arrays when the npz has none (full axis-angle hand poses do not use them)."""
    from smplx.utils import Struct

    fields = dict(data)
    sd = np.asarray(fields["shapedirs"], dtype=np.float64)
    if sd.shape[-1] < _SHAPE_SPACE:
        pad = np.zeros(sd.shape[:-1] + (_SHAPE_SPACE - sd.shape[-1],))
        fields["shapedirs"] = np.concatenate([sd, pad], axis=-1)
    if model_type == "smplh":
        for side in "lr":
            fields.setdefault(f"hands_components{side}", np.zeros((45, 45)))
            fields.setdefault(f"hands_mean{side}", np.zeros(45))
    return Struct(**fields)


def _vertex_ids() -> dict[str, int]:
    """Extra vertex joints smplx appends (discarded here): vertex 0 fits any template."""
    keys = ("nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe",
            "RHeel") + tuple(f"{h}{t}" for h in "lr" for t in ("thumb", "index", "middle", "ring", "pinky"))
    return dict.fromkeys(keys, 0)


def smpl_joints(data: dict[str, np.ndarray], model_type: str, poses: np.ndarray, trans: np.ndarray,
                betas: np.ndarray) -> np.ndarray:
    """(T,22,3) body joints [m] of the model posed by `poses` (T,P) axis-angle, `trans` (T,3),
    `betas` (B,) or (T,B) (truncated to the model's shape components)."""
    import smplx
    import torch

    n_shape = int(np.asarray(data["shapedirs"]).shape[-1])
    betas = np.atleast_2d(np.asarray(betas, dtype=np.float64))[:, :n_shape]
    nb = betas.shape[1]
    kwargs = dict(model_path="", data_struct=_struct(data, model_type), num_betas=max(nb, 1), batch_size=1,
                  vertex_ids=_vertex_ids(), dtype=torch.float32)
    if model_type == "smplh":
        model = smplx.SMPLH(use_pca=False, flat_hand_mean=True, **kwargs)
    else:
        model = smplx.SMPL(**kwargs)
    T = poses.shape[0]
    out = np.empty((T, 22, 3))
    with torch.no_grad():
        for s in range(0, T, _CHUNK):
            e = min(T, s + _CHUNK)
            f = lambda x: torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)  # noqa: E731
            b = betas if betas.shape[0] == T else np.repeat(betas[:1], T, axis=0)
            b = f(b[s:e]) if nb else torch.zeros((e - s, 1), dtype=torch.float32)
            p = poses[s:e]
            args = dict(betas=b, global_orient=f(p[:, :3]), transl=f(trans[s:e]))
            if model_type == "smplh":
                args.update(body_pose=f(p[:, 3:66]), left_hand_pose=f(p[:, 66:111]), right_hand_pose=f(p[:, 111:156]))
            else:
                args.update(body_pose=f(p[:, 3:72]))
            out[s:e] = model(**args).joints[:, :22].double().numpy()
    return out


def _fps(where: str, fields: dict, fps: float | None, opts: SourceOptions) -> float:
    if opts.source_fps is not None:
        value = float(opts.source_fps)
    elif (key := next((k for k in _FPS_KEYS if k in fields), None)) is not None:
        arr = np.asarray(fields[key])
        if arr.size != 1 or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{where}: {key!r} must be a single number, got {arr.dtype} {arr.shape}")
        value = float(arr.reshape(()))
    elif fps is not None:
        value = float(fps)
    else:
        raise ValueError(f"{where}: no frame rate in the file (mocap_framerate): pass --source-fps")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: fps must be a positive number, got {value}")
    return value


def _params(where: str, fields: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def num(key, default=None):
        if key not in fields:
            if default is None:
                raise ValueError(f"{where}: no {key!r} array")
            return default
        arr = np.asarray(fields[key])
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{where}: {key!r} must be numeric, got dtype {arr.dtype}")
        return arr.astype(np.float64)

    poses, trans, betas = num("poses"), num("trans"), num("betas", np.zeros(0))
    if poses.ndim != 2 or poses.shape[1] not in _POSE_DIMS:
        raise ValueError(f"{where}: 'poses' must be (T, 156) SMPL-H or (T, 72) SMPL axis-angle, got {poses.shape}")
    if poses.shape[0] == 0:
        raise ValueError(f"{where}: the motion has zero frames")
    if trans.shape != (poses.shape[0], 3):
        raise ValueError(f"{where}: 'trans' must be ({poses.shape[0]}, 3), got {trans.shape}")
    if betas.ndim > 2 or (betas.ndim == 2 and betas.shape[0] not in (1, poses.shape[0])):
        raise ValueError(f"{where}: 'betas' must be (B,) or (T, B), got {betas.shape}")
    if not (np.isfinite(poses).all() and np.isfinite(trans).all() and np.isfinite(betas).all()):
        raise ValueError(f"{where}: NaN or Inf in poses, trans or betas")
    return poses, trans, betas


def read_amass(path: str | os.PathLike, options: SourceOptions | None = None, fps: float | None = None) -> HumanMotion:
    """Read an AMASS / SMPL parameter npz into a HumanMotion of the 22 SMPL body joints.

    positions (T,22,3) [m], Z-up; fps: options.source_fps, else mocap_framerate, else `fps`.
    Needs options.body_model (see the module docstring); one-line ValueError otherwise.
    """
    opts = options or SourceOptions()
    where = str(path)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{where}: no such file")
    try:
        fields = _load_npz(where, path)
    except (OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"{where}: not a readable npz file ({e})") from None
    if not is_amass_keys(fields):
        raise ValueError(f"{where}: not an AMASS parameter file (needs 'poses' and 'trans')")
    poses, trans, betas = _params(where, fields)
    fps_value = _fps(where, fields, fps, opts)
    model_type = _text(fields["surface_model_type"]) if "surface_model_type" in fields else _POSE_DIMS[poses.shape[1]]
    model_type = model_type.replace("-", "").replace("+", "")
    if model_type == "smplx" or poses.shape[1] == 165:
        raise ValueError(f"{where}: SMPL-X parameter files are not supported yet (SMPL-H (T, 156) and SMPL "
                         "(T, 72) are); export the joints as keypoints (smplx55 layout)")
    if model_type not in _JOINTS or _POSE_DIMS[poses.shape[1]] != model_type:
        raise ValueError(f"{where}: surface_model_type {model_type[:20]!r} does not match poses {poses.shape}")
    gender = _text(fields["gender"]) if "gender" in fields else "neutral"
    if gender not in ("male", "female", "neutral"):
        gender = "neutral"
    if not opts.body_model:
        raise ValueError(f"{where}: {NO_MODEL}")
    model_path, used = find_body_model(where, opts.body_model, model_type, gender)
    data = load_body_model(where, model_path, model_type)
    joints = smpl_joints(data, model_type, poses, trans, betas)
    motion = HumanMotion(name=path.stem, fps=fps_value, joint_names=list(SMPL22_JOINTS), positions=joints,
                         parents=np.array(SMPL22_PARENTS, dtype=np.int64), confidence=np.ones(joints.shape[:2]),
                         unit_scale=1.0, up_axis="z", layout="smpl22", source=where,
                         extra={"body_model": str(model_path), "gender": used, "surface_model_type": model_type})
    motion.validate()
    return motion

"""Rotations: the one home of mimiclab's quaternion, rotation-matrix and Euler helpers.

Two modules with the same function names and the same formulas (so numpy and torch agree to
rounding), imported explicitly — importing this package imports neither numpy nor torch:

- ``mimiclab.rotations.numpy_ops``: numpy only (float64 results). Safe for numpy-only layers
  (sim2sim, deploy): it never imports torch.
- ``mimiclab.rotations.torch_ops``: torch (dtype and device of the inputs).

Conventions (both modules):
- Quaternions are (w, x, y, z) — motion files, contracts, MuJoCo, the kernels. Isaac Lab 3 and
  scipy use (x, y, z, w): convert at that boundary with ``wxyz_to_xyzw`` / ``xyzw_to_wxyz``.
- Hamilton product; q rotates vectors by v' = q ⊗ v ⊗ q*, world ← body for body orientations.
- Rotation matrices act on column vectors (v_parent = R @ v_child).
- Rotation vectors (``quat_log`` / ``quat_exp``) are axis·angle [rad], angle in [0, π] (q and −q
  are the same rotation: ``quat_log`` takes the shortest one).
- Euler sequences (numpy only) are intrinsic, composed in the order written: "zxy" means
  R = Rz(a) @ Rx(b) @ Ry(c) (BVH channel order).
- Everything broadcasts over leading dimensions: q (..., 4), v (..., 3), R (..., 3, 3).
- Which functions normalise non-unit quaternions: ``quat_normalize``, ``matrix_from_quat`` (and so
  ``ori6_from_quat``), ``quat_slerp`` / ``quat_nlerp`` (unit results), ``quat_from_matrix`` (unit,
  w ≥ 0). ``quat_mul``, ``quat_apply``, ``quat_apply_inverse`` and ``quat_conjugate`` use q as
  given (as Isaac Lab and the compiled kernels do), so pass unit quaternions.

Compiled kernels (csrc/, ``mimiclab.kernels.warp_*``) keep their own device code; their torch
references use ``torch_ops``.
"""

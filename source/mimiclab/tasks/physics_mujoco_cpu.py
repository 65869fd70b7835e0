"""MuJoCo C steps the worlds of an Isaac Lab / Newton scene: the fast CPU physics (issue 19).

Newton's own MuJoCo-C backend (``SolverMuJoCo(use_mujoco_cpu=True)``, Newton 1.6.1) owns one
template-world ``MjData`` only: with 16 envs it steps world 0 and leaves the others frozen, and
``get_max_contact_count``/``update_contacts`` raise ``NotImplementedError`` (the contact setup of
Isaac Lab's manager fails). This module keeps everything Newton and Isaac Lab build — the USD import,
the per-world MuJoCo-Warp *model* (which domain randomisation writes to), the state conversion
kernels, the actuators, the contact sensors — and replaces only the integration: one MuJoCo C
``MjModel``/``MjData`` per world, stepped by ``mujoco.mj_step`` (which releases the GIL, so worlds
can be split over threads).

Per physics step (``MuJoCoCSolver.step``):

1. Newton's own kernels write the actuator controls (``ctrl`` = PD targets), joint forces and body
   wrenches into the MuJoCo-Warp data arrays, and the Newton joint state into ``qpos``/``qvel``;
2. each world's controls are copied into its ``MjData``; its ``qpos``/``qvel`` are overwritten only
   when Isaac Lab wrote that world's joint state since the last step (resets, events) — otherwise
   MuJoCo keeps integrating its own float64 state, as sim2sim does;
3. ``mj_step`` per world; ``qpos``/``qvel`` go back into the MuJoCo-Warp data and Newton's kernels
   convert them to ``joint_q``/``joint_qd`` and run forward kinematics (body poses/velocities);
4. contacts (for Isaac Lab's contact sensors) are read from each ``MjData`` on request.

Steps 2–4 run in C++ (``mimiclab._C_mujoco``: one call per physics step for all worlds, GIL released,
threads over worlds; built against the libmujoco of the installed ``mujoco`` package) — the Python
loops ``_step_worlds_python`` / ``_gather_contacts_python`` are its readable reference (tested
bitwise / to float32 rounding) and the fallback when the module was not built.

Model changes (friction, masses, CoM, gains, ...) go through Newton's own
``notify_model_changed`` into the per-world MuJoCo-Warp model and are then copied field by field
into each world's ``MjModel``, so both backends see identical parameters.

This is the one module of mimiclab that touches private Newton / Isaac Lab attributes
(``SolverMuJoCo._apply_mjc_control`` / ``_update_mjc_data`` / ``_update_newton_state``,
``NewtonMJWarpManager._create_solver``).
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import warp as wp
from isaaclab.utils import configclass
from isaaclab_newton.physics import MJWarpSolverCfg
from isaaclab_newton.physics.mjwarp_manager import NewtonMJWarpManager
from newton.solvers import SolverMuJoCo

BACKENDS = ("auto", "mujoco_c", "mjwarp", "mjwarp_capture")

# Fields Newton keeps per world in the MuJoCo-Warp model (SolverMuJoCo._expand_model_fields), plus
# shared ones it may rewrite on a model change; each is copied into every world's MjModel.
_MODEL_FIELDS = (
    "qpos0", "qpos_spring", "body_pos", "body_quat", "body_ipos", "body_iquat", "body_mass", "body_subtreemass",
    "body_inertia", "body_invweight0", "body_gravcomp", "jnt_solref", "jnt_solimp", "jnt_pos", "jnt_axis",
    "jnt_stiffness", "jnt_range", "jnt_actfrcrange", "jnt_margin", "dof_armature", "dof_damping", "dof_invweight0",
    "dof_frictionloss", "dof_solimp", "dof_solref", "geom_solmix", "geom_solref", "geom_solimp", "geom_size",
    "geom_rbound", "geom_pos", "geom_quat", "geom_friction", "geom_margin", "geom_gap", "geom_priority",
    "geom_condim", "geom_contype", "geom_conaffinity", "site_pos", "site_quat", "eq_solref", "eq_solimp", "eq_data",
    "eq_active0", "actuator_gainprm", "actuator_biasprm", "actuator_dynprm", "actuator_ctrlrange",
    "actuator_forcerange", "actuator_actrange", "actuator_gear", "actuator_cranklength", "actuator_acc0",
    "actuator_lengthrange", "pair_solref", "pair_solreffriction", "pair_solimp", "pair_margin", "pair_gap",
    "pair_friction", "tendon_solref_lim", "tendon_solimp_lim", "tendon_solref_fri", "tendon_solimp_fri",
    "tendon_range", "tendon_actfrcrange", "tendon_margin", "tendon_stiffness", "tendon_damping", "tendon_armature",
    "tendon_frictionloss", "tendon_lengthspring", "tendon_length0", "tendon_invweight0",
)
_OPT_FIELDS = ("tolerance", "ls_tolerance", "ccd_tolerance", "density", "viscosity", "gravity", "wind", "magnetic")


class _LaunchReplay:
    """Record the ``wp.launch`` calls of a Newton routine once and replay them afterwards.

    Newton's state/control conversions are a handful of Warp kernels whose Python-side argument
    packing costs more than the kernels themselves on the CPU; their arguments are the same arrays
    every step (the solver's model/data and Isaac Lab's persistent state/control), so the recorded
    launches (``wp.launch(..., record_cmd=True)``) are replayed. ``key`` holds the objects the
    routine was called with: a different key records again.
    """

    def __init__(self):
        self._cmds: list | None = None
        self._key: tuple = ()

    def __call__(self, key: tuple, routine) -> None:
        if self._cmds is not None and len(key) == len(self._key) and all(a is b for a, b in zip(key, self._key)):
            for cmd in self._cmds:
                cmd.launch()
            return
        cmds, real = [], wp.launch

        def record(*args, **kwargs):
            if kwargs.get("record_cmd"):
                return real(*args, **kwargs)
            cmd = real(*args, record_cmd=True, **kwargs)
            cmd.launch()
            cmds.append(cmd)
            return None

        wp.launch = record
        try:
            routine()
        finally:
            wp.launch = real
        self._cmds, self._key = cmds, key


def default_threads() -> int:
    """Threads that step the worlds: ``$MIMICLAB_MUJOCO_THREADS``, else 1 (measured best on 2 shared cores)."""
    return max(1, int(os.environ.get("MIMICLAB_MUJOCO_THREADS", "1")))


class MuJoCoCSolver(SolverMuJoCo):
    """``SolverMuJoCo`` whose step runs MuJoCo C, one ``MjData`` per Newton world.

    Construction is Newton's (MuJoCo-Warp model and data, mappings, model-change handling), with
    ``separate_worlds=True``; the MuJoCo-Warp ``step`` kernels are never compiled or run.
    """

    def __init__(self, model, *, num_threads: int | None = None, **kwargs):
        kwargs["use_mujoco_cpu"] = False
        kwargs["separate_worlds"] = True
        if not wp.get_device(model.device).is_cpu:
            raise ValueError("MuJoCoCSolver runs on the CPU only (use MJWarp on CUDA)")
        self._worlds_ready = False
        super().__init__(model, **kwargs)
        import mujoco

        self._mj = mujoco
        self.nworld = int(self.mjw_data.nworld)
        self.mj_models = [copy.copy(self.mj_model) for _ in range(self.nworld)]
        self.mj_datas = [mujoco.MjData(m) for m in self.mj_models]
        self._worlds_ready = True
        self._sync_world_models()
        qpos, qvel = self.mjw_data.qpos.numpy(), self.mjw_data.qvel.numpy()
        for w, (m, d) in enumerate(zip(self.mj_models, self.mj_datas)):
            d.qpos[:] = qpos[w]
            d.qvel[:] = qvel[w]
            mujoco.mj_forward(m, d)
        self._published_q: np.ndarray | None = None  # joint_q / joint_qd as last written by step()
        self._published_qd: np.ndarray | None = None
        self._force_write = np.ones(self.nworld, dtype=bool)
        self.num_threads = num_threads or default_threads()
        self._replay_control, self._replay_state = _LaunchReplay(), _LaunchReplay()
        # _C_mujoco steps all worlds and gathers their contacts in one call (GIL released, threads
        # over worlds); without it the Python loops below do the same, on a thread pool.
        from mimiclab.kernels.backends import mujoco_worlds_module

        self._native = mujoco_worlds_module()
        self._model_addrs = [m._address for m in self.mj_models]
        self._data_addrs = [d._address for d in self.mj_datas]
        self._pool = None
        if self._native is None and self.num_threads > 1:
            self._pool = ThreadPoolExecutor(self.num_threads)
            self._chunks = [c.tolist() for c in np.array_split(np.arange(self.nworld), self.num_threads) if len(c)]

    # ----- model parameters ---------------------------------------------------------------------

    def _sync_world_models(self) -> None:
        """Copy every per-world (and shared) parameter Newton keeps in the MuJoCo-Warp model into
        each world's ``MjModel``."""
        src, opt = self.mjw_model, self.mjw_model.opt
        for name in _MODEL_FIELDS:
            arr = getattr(src, name, None)
            if not isinstance(arr, wp.array) or arr.size == 0:
                continue
            self._copy_rows(arr.numpy(), lambda m, name=name: getattr(m, name))
        for name in _OPT_FIELDS:
            arr = getattr(opt, name, None)
            if isinstance(arr, wp.array) and arr.size:
                self._copy_rows(arr.numpy(), lambda m, name=name: getattr(m.opt, name), opt_field=name)
        imp = getattr(opt, "impratio_invsqrt", None)
        if isinstance(imp, wp.array) and imp.size:
            values = imp.numpy().reshape(imp.shape[0], -1)[:, 0]
            for w, m in enumerate(self.mj_models):
                m.opt.impratio = float(1.0 / values[w % len(values)] ** 2)
        meaninertia = getattr(src.stat, "meaninertia", None)
        if isinstance(meaninertia, wp.array) and meaninertia.size:
            values = meaninertia.numpy().reshape(-1)
            for w, m in enumerate(self.mj_models):
                m.stat.meaninertia = float(values[w % len(values)])

    def _copy_rows(self, values: np.ndarray, target, opt_field: str | None = None) -> None:
        first = target(self.mj_models[0])
        size = int(np.size(first))
        if size == 0:
            return
        batched = values.reshape(-1, size) if values.size % size == 0 else None
        if batched is None or batched.shape[0] not in (1, self.nworld):
            raise RuntimeError(f"MuJoCoCSolver: cannot map MuJoCo-Warp field {opt_field or 'model'} of shape "
                               f"{values.shape} onto MjModel shape {np.shape(first)}")
        for w, m in enumerate(self.mj_models):
            row = batched[w if batched.shape[0] == self.nworld else 0]
            dst = target(m)
            if isinstance(dst, np.ndarray):
                dst.reshape(-1)[:] = row
            else:  # scalar option
                setattr(m.opt, opt_field, row.item())

    def notify_model_changed(self, flags) -> None:
        super().notify_model_changed(flags)
        if self._worlds_ready:
            self._sync_world_models()

    # ----- stepping -----------------------------------------------------------------------------

    def _step_chunk(self, worlds) -> None:
        step = self._mj.mj_step
        for w in worlds:
            step(self.mj_models[w], self.mj_datas[w])

    def _step_worlds_python(self, ctrl, qfrc, xfrc, qpos, qvel, write, dt, qfrc_actuator) -> None:
        """The readable reference of ``_C_mujoco.step_worlds``: per world, controls and applied forces
        in, (qpos, qvel) in where ``write`` is set, ``mj_step``, (qpos, qvel[, qfrc_actuator]) out.
        Arrays (W, ·) float32, written in place."""
        for w, (m, d) in enumerate(zip(self.mj_models, self.mj_datas)):
            if write[w]:
                d.qpos[:] = qpos[w]
                d.qvel[:] = qvel[w]
            d.ctrl[:] = ctrl[w]
            d.qfrc_applied[:] = qfrc[w]
            d.xfrc_applied[:] = xfrc[w]
            m.opt.timestep = dt
        if self._pool is None:
            self._step_chunk(range(self.nworld))
        else:
            list(self._pool.map(self._step_chunk, self._chunks))
        for w, d in enumerate(self.mj_datas):
            qpos[w] = d.qpos
            qvel[w] = d.qvel
            if qfrc_actuator is not None:
                qfrc_actuator[w] = d.qfrc_actuator

    def _step_worlds(self, ctrl, qfrc, xfrc, qpos, qvel, write, dt, qfrc_actuator) -> None:
        if self._native is None:
            self._step_worlds_python(ctrl, qfrc, xfrc, qpos, qvel, write, dt, qfrc_actuator)
        else:
            self._native.step_worlds(self._model_addrs, self._data_addrs, ctrl, qfrc, xfrc, qpos, qvel, write,
                                     float(dt), qfrc_actuator, self.num_threads)

    def step(self, state_in, state_out, control, contacts, dt: float) -> None:
        model, data = self.model, self.mjw_data
        with wp.ScopedDevice(model.device):
            self._replay_control((state_in, control, state_in.body_f, getattr(control, "joint_f", None)),
                                 lambda: self._apply_mjc_control(model, state_in, control, data))
            joint_q, joint_qd = state_in.joint_q.numpy(), state_in.joint_qd.numpy()
            if self._published_q is None:
                write = np.ones(self.nworld, dtype=bool)
            else:
                q_changed = (joint_q != self._published_q).reshape(self.nworld, -1).any(axis=1)
                qd_changed = (joint_qd != self._published_qd).reshape(self.nworld, -1).any(axis=1)
                write = q_changed | qd_changed | self._force_write
            if write.any():
                self._update_mjc_data(data, model, state_in)
            qfrc_actuator = getattr(getattr(state_out, "mujoco", None), "qfrc_actuator", None)
            self._step_worlds(data.ctrl.numpy(), data.qfrc_applied.numpy(), data.xfrc_applied.numpy(),
                              data.qpos.numpy(), data.qvel.numpy(), write, dt,
                              data.qfrc_actuator.numpy() if qfrc_actuator is not None else None)
            self._force_write[:] = False
            if state_out.body_qdd is not None or state_out.body_parent_f is not None:
                raise NotImplementedError("MuJoCoCSolver: body_qdd / body_parent_f are not provided")
            self._replay_state((state_out, state_in, state_out.joint_q, state_out.body_q, qfrc_actuator),
                               lambda: self._update_newton_state(model, state_out, data, state_prev=state_in))
            self._published_q = state_out.joint_q.numpy().copy()
            self._published_qd = state_out.joint_qd.numpy().copy()
        self._step += 1

    def reset(self, state, world_mask=None, flags=None) -> None:
        super().reset(state, world_mask=world_mask, flags=flags)
        if not self._worlds_ready:
            return
        mask = np.ones(self.nworld, dtype=bool) if world_mask is None else world_mask.numpy()[: self.nworld]
        for w in np.flatnonzero(mask):
            d = self.mj_datas[w]
            d.qacc_warmstart[:] = 0.0
            d.qfrc_applied[:] = 0.0
            d.xfrc_applied[:] = 0.0
            d.ctrl[:] = 0.0
            d.act[:] = 0.0
            self._force_write[w] = True

    # ----- contacts -----------------------------------------------------------------------------

    def update_contacts(self, contacts, state=None) -> None:
        """Fill Newton ``contacts`` (shapes, points in body frames, normal, 6-D force on shape 0) from
        every world's ``MjData``, as ``SolverMuJoCo.update_contacts`` does from MuJoCo-Warp data."""
        if self._native is None:
            n = self._gather_contacts_python(contacts)
        else:
            force = contacts.force.numpy() if contacts.force is not None else None
            n = self._native.gather_contacts(
                self._model_addrs, self._data_addrs, self._geom_to_shape_np(),
                contacts.rigid_contact_shape0.numpy(), contacts.rigid_contact_shape1.numpy(),
                contacts.rigid_contact_normal.numpy(), contacts.rigid_contact_point0.numpy(),
                contacts.rigid_contact_point1.numpy(), force)
        contacts.rigid_contact_count.numpy()[0] = n
        if getattr(self, "_n_contacts", None) is None:
            self._n_contacts = wp.zeros(1, dtype=wp.int32, device=self.model.device)
        self._n_contacts.numpy()[0] = n
        contacts.n_contacts = self._n_contacts

    def _gather_contacts_python(self, contacts) -> int:
        """The readable reference of ``_C_mujoco.gather_contacts``; returns the number of contacts."""
        geom_to_shape = self._geom_to_shape_np()
        nbody = self.mj_model.nbody
        parts = {k: [] for k in ("w", "geom", "frame", "pos", "dist", "dim", "adr", "friction", "efc", "xpos", "xmat")}
        efc_base = 0
        for w, d in enumerate(self.mj_datas):
            if d.ncon == 0:
                continue
            c = d.contact
            parts["w"].append(np.full(d.ncon, w))
            parts["geom"].append(c.geom)
            parts["frame"].append(c.frame)
            parts["pos"].append(c.pos)
            parts["dist"].append(c.dist)
            parts["dim"].append(c.dim)
            parts["adr"].append(np.where(c.efc_address >= 0, c.efc_address + efc_base, -1))
            parts["friction"].append(c.friction)
            parts["efc"].append(d.efc_force)
            parts["xpos"].append(d.xpos)
            parts["xmat"].append(d.xmat)
            efc_base += d.nefc
        n = sum(len(x) for x in parts["w"])
        if n > contacts.rigid_contact_max:
            raise ValueError(f"MuJoCoCSolver: {n} contacts exceed rigid_contact_max={contacts.rigid_contact_max}")
        if n:
            cat = {k: np.concatenate(v) for k, v in parts.items()}
            world, geom = cat["w"], cat["geom"]
            frame = cat["frame"].reshape(n, 3, 3)
            normal = frame[:, 0]
            contacts.rigid_contact_shape0.numpy()[:n] = geom_to_shape[world, geom[:, 0]]
            contacts.rigid_contact_shape1.numpy()[:n] = geom_to_shape[world, geom[:, 1]]
            contacts.rigid_contact_normal.numpy()[:n] = normal
            xpos, xmat = cat["xpos"], cat["xmat"].reshape(-1, 3, 3)
            # world offsets into the concatenated per-world body arrays (only worlds with contacts)
            rank = np.searchsorted(np.unique(world), world)
            for side, sign, out in ((0, -0.5, contacts.rigid_contact_point0), (1, 0.5, contacts.rigid_contact_point1)):
                body = self.mj_model.geom_bodyid[geom[:, side]]
                row = rank * nbody + body
                p = cat["pos"] + sign * cat["dist"][:, None] * normal
                local = np.einsum("nji,nj->ni", xmat[row], p - xpos[row])
                out.numpy()[:n] = np.where((body > 0)[:, None], local, p)
            if contacts.force is not None:
                pyramidal = self.mj_model.opt.cone == self._mj.mjtCone.mjCONE_PYRAMIDAL
                f = _contact_forces(cat["dim"], cat["adr"], cat["friction"], cat["efc"], pyramidal)
                world_f = np.concatenate([np.einsum("nk,nkj->nj", f[:, :3], frame),
                                          np.einsum("nk,nkj->nj", f[:, 3:], frame)], axis=1)
                contacts.force.numpy()[:n] = -world_f  # MuJoCo: force on geom 2; Newton: force on shape 0
        return n

    def _geom_to_shape_np(self) -> np.ndarray:
        if getattr(self, "_geom_to_shape_cache", None) is None:
            self._geom_to_shape_cache = np.ascontiguousarray(self.mjc_geom_to_newton_shape.numpy(), dtype=np.int32)
        return self._geom_to_shape_cache

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None


def _contact_forces(dim: np.ndarray, adr: np.ndarray, friction: np.ndarray, efc_force: np.ndarray,
                    pyramidal: bool) -> np.ndarray:
    """6-D contact force:torque in the contact frame per contact (``mj_contactForce``, vectorised)."""
    out = np.zeros((len(dim), 6))
    valid = adr >= 0
    if pyramidal:
        one = valid & (dim == 1)
        out[one, 0] = efc_force[adr[one]]
        for k in range(5):  # friction direction k: pyramid rows 2k, 2k+1
            has = valid & (dim > 1) & (k < dim - 1)
            if not has.any():
                break
            pos, neg = efc_force[adr[has] + 2 * k], efc_force[adr[has] + 2 * k + 1]
            out[has, 0] += pos + neg
            out[has, k + 1] = (pos - neg) * friction[has, k]
    else:
        for k in range(6):
            has = valid & (k < dim)
            if not has.any():
                break
            out[has, k] = efc_force[adr[has] + k]
    return out


class MJWarpCapturedSolver(SolverMuJoCo):
    """MuJoCo-Warp whose step is recorded once into a Warp graph and replayed (Warp 1.17 captures on
    the CPU too); only for measuring the best MJWarp-on-CPU setting (``backend="mjwarp_capture"``)."""

    _graph = None
    _eager_steps = 0

    def _mujoco_warp_step(self):
        if self._graph is None and self._eager_steps >= 1:  # kernels are compiled by the first, eager step
            with wp.ScopedCapture(device=self.model.device) as capture:
                self._mujoco_warp.step(self.mjw_model, self.mjw_data)
            self._graph = capture.graph
        if self._graph is None:
            self._eager_steps += 1
            self._mujoco_warp.step(self.mjw_model, self.mjw_data)
        else:
            wp.capture_launch(self._graph)


class NewtonMuJoCoCManager(NewtonMJWarpManager):
    """Isaac Lab's MuJoCo-Warp manager with :class:`MuJoCoCSolver` on the CPU (``backend`` auto/mujoco_c)."""

    @classmethod
    def _create_solver(cls, model, solver_cfg):
        from mimiclab.tasks.physics import resolved_preset

        kwargs = cls._filter_solver_kwargs(SolverMuJoCo, solver_cfg)
        kwargs.pop("ls_parallel", None)
        backend = getattr(solver_cfg, "backend", "auto")
        if backend not in BACKENDS:
            raise ValueError(f"MuJoCoCSolverCfg.backend must be one of {BACKENDS}, got {backend!r}")
        on_cpu = wp.get_device(model.device).is_cpu
        backend = resolved_preset("cpu" if on_cpu else "cuda", backend)
        if backend == "mjwarp":
            return SolverMuJoCo(model, **kwargs)
        if backend == "mjwarp_capture":
            return MJWarpCapturedSolver(model, **kwargs)
        if not on_cpu:
            raise ValueError("physics backend 'mujoco_c' needs device='cpu'")
        return MuJoCoCSolver(model, num_threads=solver_cfg.num_threads or None, **kwargs)

    @classmethod
    def clear(cls):
        solver = cls._solver
        if isinstance(solver, MuJoCoCSolver):
            solver.close()
        super().clear()


@configclass
class MuJoCoCSolverCfg(MJWarpSolverCfg):
    """``MJWarpSolverCfg`` whose CPU worlds are stepped by MuJoCo C (see module docstring).

    ``backend``: ``"auto"`` (MuJoCo C on the CPU, MuJoCo-Warp on CUDA), ``"mujoco_c"`` or ``"mjwarp"``.
    ``num_threads``: threads stepping the worlds (0: ``$MIMICLAB_MUJOCO_THREADS`` or 1).
    """

    class_type: type | str = "mimiclab.tasks.physics_mujoco_cpu:NewtonMuJoCoCManager"
    backend: str = "auto"
    num_threads: int = 0

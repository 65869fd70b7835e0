"""``mimiclab train``: Isaac Lab's rsl_rl training entry point with mimiclab's defaults.

    train(["--task", "Mimic-Track-G1", "--motion", "clips/", "--num_envs", "8", "--max_iterations", "2"])

Everything Isaac Lab's ``isaaclab train --rl_library rsl_rl`` accepts passes through unchanged
(``--task --num_envs --max_iterations --seed --device --video --distributed --experiment_name
--run_name --checkpoint --logger ...`` and Hydra overrides such as ``env.scene.num_envs=16`` or
``agent.algorithm.learning_rate=3e-4``). On top of it:

* ``--motion FILE|FOLDER|GLOB ...`` — expanded and checked here, handed to the task through
  ``$MIMICLAB_MOTION`` (``mimiclab.rl.motion_args``).
* ``--device`` defaults to ``cuda:0`` when CUDA is there, else ``cpu``; the rsl_rl learner follows
  the env's device (``agent.device=<device>`` unless you override ``agent.device`` yourself;
  ``--distributed`` runs use Isaac Lab's ``cuda:LOCAL_RANK``; all ranks of a node log into one run
  folder named after their torchrun agent's start time unless ``--run_timestamp`` is given).
* Logs: ``logs/rsl_rl/<experiment>/<run>/`` under the working directory, TensorBoard event files
  (no hosted tracker), checkpoints ``model_<iteration>.pt``.
* Checkpoints are written atomically (temporary file beside the target, fsync, ``os.replace``): a
  run killed mid-save never leaves a truncated ``model_*.pt``.
* ``--base CHECKPOINT.pt|EXPORTED_FOLDER`` — the frozen GMT base of a residual task
  (``Mimic-Residual-Box-G1``): checked against the task's observation layout before anything is
  built, then handed over as ``agent.actor.base_path``; ``agent.actor.mode=finetune|scratch`` runs
  the ResMimic baselines through the same script.
* ``--teacher CHECKPOINT.pt`` — teacher → student distillation (rsl_rl's Distillation, the task's
  ``rsl_rl_distillation_cfg_entry_point``): the deployable student of ``Mimic-TrackKeypoints-G1``
  learns the actions of a PPO checkpoint of its privileged teacher ``Mimic-TrackKeypoints-G1-Teacher``
  on its own rollouts. The checkpoint is checked before anything is built (a PPO actor, and the
  teacher's observation terms in the ``contract.json`` beside it); runs log to the distillation
  config's experiment (``g1_tracking_keypoints_student``) and export the student as any policy.
  With ``--resume`` the newest student run continues (its checkpoint carries the teacher).
* ``--video`` needs Isaac Sim (Kit); on a kitless install it is refused up front — sim2sim's
  ``--video`` renders the exported policy in MuJoCo instead.
* ``--time_budget SECONDS``: stop after the first iteration that ends past this wall-clock budget
  (counted from the start of learning; the last checkpoint and the export are written as at a
  normal end, and the log says how many iterations fitted). All ranks of a distributed run stop at
  the same iteration.
* ``--resume``: Isaac Lab's ``--checkpoint latest`` — the last checkpoint of the newest run of this
  task in ``logs/rsl_rl/<experiment>/`` (weights, optimizer, iteration). The resumed run gets a new
  run folder, and its iteration counter continues after the checkpoint's: resuming from
  ``model_1.pt`` for one iteration writes ``model_2.pt`` (plain rsl_rl 5.5 would redo iteration 1
  and write ``model_1.pt`` again).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from mimiclab.rl.motion_args import expand_motion_args, set_task_motion, task_motion_from_env


TIME_BUDGET_ENV = "MIMICLAB_TRAIN_TIME_BUDGET"  # seconds; how --time_budget reaches the runner


class _TimeBudgetReached(Exception):
    """Raised after the iteration that used up ``--time_budget`` (caught in the runner's learn)."""


class TrainError(ValueError):
    """Bad input to ``train`` (one-line message)."""


def default_device() -> str:
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def _split_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options (--motion, --resume) and the peeked Isaac Lab ones; the rest passes through."""
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    p.add_argument("--motion", nargs="+", default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--base", default=None)
    p.add_argument("--time_budget", type=float, default=None)
    p.add_argument("--teacher", default=None)
    ours, rest = p.parse_known_args(list(argv))
    motion = []
    for v in ours.motion or []:  # nargs="+" swallows Hydra overrides that follow --motion
        if "=" in v and not Path(v).exists() and not any(c in v for c in "*?["):
            rest.append(v)
        else:
            motion.append(v)
    ours.motion = motion if ours.motion is not None else None
    peek = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag in ("--task", "--device", "--checkpoint"):
        peek.add_argument(flag, default=None)
    peek.add_argument("--distributed", action="store_true")
    known, _ = peek.parse_known_args(rest)
    for k, v in vars(known).items():
        setattr(ours, k, v)
    return ours, rest


def prepare_argv(argv: Sequence[str]) -> list[str]:
    """Validate our options, set the motion files, return the argv for Isaac Lab's entry point."""
    ours, rest = _split_args(argv)
    if not ours.task:
        raise TrainError("--task is required (e.g. --task Mimic-Track-G1)")
    if ours.motion is not None:
        set_task_motion(expand_motion_args(ours.motion))
    if ours.device is None:
        ours.device = default_device()
        rest += ["--device", ours.device]
    if not ours.distributed and not any(a.startswith(("agent.device=", "+agent.device=")) for a in rest):
        rest.append(f"agent.device={ours.device}")
    if ours.distributed and not any(a == "--run_timestamp" or a.startswith("--run_timestamp=") for a in rest):
        rest.append(f"--run_timestamp={launch_timestamp()}")  # every rank must name the same run folder
    if ours.distributed and ours.device.startswith("cpu"):
        rest.append("env.sim.device=cpu")  # Isaac Lab would pick cuda:LOCAL_RANK; the learner follows
    if ours.base is not None:
        rest.append(f"agent.actor.base_path={check_base(ours.base, rest)}")
    if ours.time_budget is not None:
        if not ours.time_budget > 0:
            raise TrainError(f"--time_budget must be a positive number of seconds, got {ours.time_budget}")
        os.environ[TIME_BUDGET_ENV] = repr(float(ours.time_budget))
    else:
        os.environ.pop(TIME_BUDGET_ENV, None)
    if ours.teacher is not None:
        if ours.checkpoint is not None:
            raise TrainError("--teacher and --checkpoint exclude each other (the teacher is the checkpoint a "
                             "distillation starts from; --resume continues a student run)")
        teacher = check_teacher(ours.teacher, ours.task)
        rest += ["--agent", DISTILLATION_AGENT] + ([] if ours.resume else ["--checkpoint", teacher])
    if ours.resume:
        if ours.checkpoint is not None:
            raise TrainError("--resume and --checkpoint exclude each other (--resume is --checkpoint latest)")
        rest += ["--checkpoint", "latest"]
    return rest


DISTILLATION_AGENT = "rsl_rl_distillation_cfg_entry_point"  # the registry key of a task's distillation config


def check_teacher(checkpoint: str, task: str) -> str:
    """The absolute path of a teacher checkpoint for distilling `task`; TrainError (one line) when the
    task has no distillation config, the file is not a PPO checkpoint (``actor_state_dict``, read with
    weights_only), or the ``contract.json`` beside it lists other observation terms than the task's
    ``teacher`` group."""
    import json

    import gymnasium as gym
    from isaaclab.cli import load_external_tasks
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    from mimiclab.rl.eval import EvalError, load_actor_state

    load_external_tasks()
    if task not in gym.registry:
        raise TrainError(f"unknown task '{task}'")
    if DISTILLATION_AGENT not in gym.registry[task].kwargs:
        with_teacher = sorted(t for t, s in gym.registry.items() if t.startswith("Mimic-") and DISTILLATION_AGENT in s.kwargs)
        raise TrainError(f"{task} has no teacher-student distillation (tasks that have one: {', '.join(with_teacher)})")
    path = Path(checkpoint).expanduser()
    try:
        load_actor_state(path, "cpu", student_as_actor=False)
    except EvalError as e:
        raise TrainError(f"--teacher: {e}; pass a PPO checkpoint of the teacher") from None
    teacher_group = getattr(parse_env_cfg(task, device="cpu", num_envs=1).observations, "teacher", None)
    want = [n for n, t in vars(teacher_group).items() if hasattr(t, "func")] if teacher_group is not None else []
    contract = path.parent / "contract.json"
    if contract.is_file():
        try:
            got = json.loads(contract.read_text())
            have, trained = [t["name"] for t in got["observations"]], got.get("task")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TrainError(f"--teacher {checkpoint}: unreadable {contract} ({type(e).__name__})") from e
        if have != want:
            raise TrainError(f"--teacher {checkpoint}: its actor ({trained}) observes {have[:3]}..., the teacher of "
                             f"{task} observes {want[:3]}... ({len(want)} terms)")
    return str(path.resolve())


def launch_timestamp() -> str:
    """The run-folder name all ranks of one ``torchrun`` launch agree on: the start time of their
    common parent (the torchrun agent of this node), ``%Y-%m-%d_%H-%M-%S``. Each rank computing
    ``now()`` itself would split a run over two folders when the ranks start in different seconds."""
    from datetime import datetime

    import psutil

    return datetime.fromtimestamp(psutil.Process(os.getppid()).create_time()).strftime("%Y-%m-%d_%H-%M-%S")


def check_base(base: str, overrides: Sequence[str]) -> str:
    """The frozen base policy of a residual run (``--base``): loaded and checked against the residual
    task's observation layout now, before any env is built; returns its absolute path."""
    from mimiclab.rl import residual

    mode = next((a.split("=", 1)[1] for a in overrides if a.startswith("agent.actor.mode=")), "residual")
    return residual.check_base(base, mode)


def check_video(args: Sequence[str]) -> None:
    """Isaac Lab records ``--video`` through Isaac Sim's Kit renderer; a kitless install (this project's
    CPU recipe) has none, so say so in one line instead of failing after the launch."""
    import importlib.util

    if "--video" in args and importlib.util.find_spec("isaacsim") is None:
        raise TrainError("--video records through Isaac Sim's Kit renderer, which this kitless Isaac Lab install "
                         "does not have; for a video of the policy run `mimiclab sim2sim --policy <run>/exported "
                         "--motion CLIP --video out.mp4`")


MOTION_TASK_FAMILIES = (".tracking.", ".keypoints.")  # env cfg modules of the tasks that track --motion clips


def check_task(task: str) -> None:
    """TrainError for a task id no installed package registers; for the tasks that track clips
    (:data:`MOTION_TASK_FAMILIES`), also when no motion file is set."""
    import gymnasium as gym
    from isaaclab.cli import load_external_tasks

    load_external_tasks()
    if task not in gym.registry:
        raise TrainError(f"unknown task '{task}' (mimiclab tasks: "
                         f"{', '.join(sorted(t for t in gym.registry if t.startswith('Mimic-')))})")
    entry = str(gym.registry[task].kwargs.get("env_cfg_entry_point", ""))
    if any(family in entry for family in MOTION_TASK_FAMILIES) and not task_motion_from_env():
        raise TrainError(f"{task} needs motion files: pass --motion FILE|FOLDER|GLOB ... "
                         "(or set MIMICLAB_MOTION)")


def _atomic_runner_class(base=None):
    """`base` (rsl_rl's OnPolicyRunner, default, or DistillationRunner) with mimiclab's checkpoints,
    contract, export, time budget and CPU multi-process set-up."""
    import torch
    from rsl_rl.runners import OnPolicyRunner

    from mimiclab.motion.format import atomic_write
    from mimiclab.rl import export

    base = OnPolicyRunner if base is None else base

    class AtomicOnPolicyRunner(base):
        """rsl_rl's runner with atomic checkpoints and resume continuing the iteration count."""

        def save(self, path: str, infos: dict | None = None) -> None:
            saved = self.alg.save()
            saved["iter"] = self.current_learning_iteration
            saved["infos"] = infos
            sampler = self._motion_sampler()
            if sampler is not None:  # failure-adaptive sampling continues where it was on --resume
                saved["motion_sampler"] = sampler.state_dict()
            atomic_write(path, lambda f: torch.save(saved, f))
            self.logger.save_model(path, self.current_learning_iteration)

        def _configure_multi_gpu(self) -> None:
            """rsl_rl's multi-GPU set-up (NCCL, cuda:LOCAL_RANK), plus the same on CPU over gloo."""
            if not str(self.device).startswith("cpu"):
                return super()._configure_multi_gpu()
            self.gpu_world_size = int(os.getenv("WORLD_SIZE", "1"))
            self.is_distributed = self.gpu_world_size > 1
            self.gpu_local_rank = int(os.getenv("LOCAL_RANK", "0")) if self.is_distributed else 0
            self.gpu_global_rank = int(os.getenv("RANK", "0")) if self.is_distributed else 0
            if not self.is_distributed:
                self.cfg["multi_gpu"] = None
                return
            self.cfg["multi_gpu"] = {"global_rank": self.gpu_global_rank, "local_rank": self.gpu_local_rank,
                                     "world_size": self.gpu_world_size}
            if not torch.distributed.is_initialized():
                torch.distributed.init_process_group(backend="gloo", rank=self.gpu_global_rank,
                                                     world_size=self.gpu_world_size)

        def learn(self, num_learning_iterations: int, init_at_random_ep_len: bool = False) -> None:
            """rsl_rl's learn, with the deployment contract written before (``<run>/contract.json``)
            and ``policy.onnx`` + contract exported after (``<run>/exported/``), on rank 0."""
            log_dir = self.logger.log_dir if not self.logger.disable_logs else None
            exporting = log_dir is not None and export.is_tracking_env(self.env)
            task = getattr(getattr(self.env.unwrapped, "spec", None), "id", None) or "unknown"
            if exporting:
                from mimiclab.deploy.contract import save_contract

                save_contract(export.contract_from_env(self.env, task), Path(log_dir) / "contract.json")
            budget = os.environ.get(TIME_BUDGET_ENV)
            if budget is None:
                super().learn(num_learning_iterations, init_at_random_ep_len=init_at_random_ep_len)
            else:
                self._learn_within(float(budget), num_learning_iterations, init_at_random_ep_len)
            if exporting:
                out = Path(log_dir) / "exported"
                export.export_runner(self, self.env, task, out,
                                     extra={"iteration": self.current_learning_iteration, "run": str(log_dir)})
                print(f"[mimiclab] exported {out / 'policy.onnx'} and {out / 'contract.json'}")

        def _learn_within(self, budget_s: float, num_learning_iterations: int, init_at_random_ep_len: bool) -> None:
            """rsl_rl's learn, stopped after the first iteration that ends past `budget_s` seconds."""
            import time

            start, first = time.monotonic(), self.current_learning_iteration
            log = self.logger.log

            def log_and_check(*args, **kwargs):
                log(*args, **kwargs)
                over = torch.tensor([float(time.monotonic() - start >= budget_s)])
                if self.is_distributed:  # every rank stops at the same iteration
                    torch.distributed.all_reduce(over, op=torch.distributed.ReduceOp.MAX)
                if over.item() > 0 and kwargs.get("it", -1) < kwargs.get("total_it", 0) - 1:
                    raise _TimeBudgetReached

            self.logger.log = log_and_check
            try:
                super().learn(num_learning_iterations, init_at_random_ep_len=init_at_random_ep_len)
            except _TimeBudgetReached:
                done = self.current_learning_iteration - first + 1
                if self.logger.writer is not None:  # what rsl_rl does at a normal end
                    self.save(os.path.join(self.logger.log_dir, f"model_{self.current_learning_iteration}.pt"))
                    self.logger.stop_logging_writer()
                print(f"[mimiclab] time budget of {budget_s:g} s reached: {done} of {num_learning_iterations} "
                      f"iterations fitted ({time.monotonic() - start:.0f} s)")
            finally:
                self.logger.log = log

        def _motion_sampler(self):
            """The tracking task's failure-adaptive sampler (None for other tasks / evaluation)."""
            base = self.env.unwrapped
            if not export.is_tracking_env(base):
                return None
            sampler = base.command_manager.get_term("motion").sampler
            return sampler if hasattr(sampler, "load_state_dict") else None

        def load(self, path: str, load_cfg: dict | None = None, strict: bool = True,
                 map_location: str | None = None) -> dict:
            """rsl_rl's load, reading the file with ``weights_only=True`` (no unpickling); the iteration
            counter continues after the checkpoint's when its iteration is restored (a distillation
            starting from a teacher's PPO checkpoint restores only the teacher and starts at 0)."""
            loaded = torch.load(path, map_location=map_location, weights_only=True)
            if self.alg.load(loaded, load_cfg, strict):
                self.current_learning_iteration = int(loaded["iter"]) + 1  # the checkpoint's iteration is done
                sampler = self._motion_sampler()
                state = loaded.get("motion_sampler")
                if sampler is not None and state is not None:
                    try:
                        sampler.load_state_dict(state)
                    except ValueError as e:  # another motion set: start the failure statistics afresh
                        print(f"[mimiclab] motion sampler state not restored: {e}")
            return loaded.get("infos")

    return AtomicOnPolicyRunner


@contextlib.contextmanager
def _mimiclab_runner(module) -> Iterator[None]:
    """Make ``module.create_rsl_rl_runner`` build mimiclab's runner for rsl_rl's OnPolicyRunner and
    DistillationRunner configs (restored on exit)."""
    from rsl_rl.runners import DistillationRunner, OnPolicyRunner

    original = module.create_rsl_rl_runner
    runner_classes = {"OnPolicyRunner": _atomic_runner_class(OnPolicyRunner),
                      "DistillationRunner": _atomic_runner_class(DistillationRunner)}

    def create(env, agent_cfg, log_dir=None):
        if agent_cfg.class_name not in runner_classes:
            return original(env, agent_cfg, log_dir=log_dir)
        from isaaclab.utils import to_dict

        return runner_classes[agent_cfg.class_name](env, to_dict(agent_cfg), log_dir=log_dir, device=agent_cfg.device)

    module.create_rsl_rl_runner = create
    try:
        yield
    finally:
        module.create_rsl_rl_runner = original


def train(argv: Sequence[str]) -> int:
    """Run training; returns 0. TrainError / ValueError on bad input (see module docstring)."""
    args = prepare_argv(argv)
    ours, _ = _split_args(argv)
    from isaaclab_rl.entrypoints.backends import train_rsl_rl

    check_task(ours.task)
    check_video(args)
    with _mimiclab_runner(train_rsl_rl), _cpu_distributed_allowed(train_rsl_rl, ours):
        train_rsl_rl.run(args)
    return 0


@contextlib.contextmanager
def _cpu_distributed_allowed(module, ours) -> Iterator[None]:
    """Isaac Lab refuses --distributed on a CPU device and pins each rank to cuda:LOCAL_RANK; our
    runner supports CPU ranks over gloo, so for such runs only (restored on exit) lift the check
    and keep every rank's simulation on the CPU."""
    from isaaclab.app import sim_launcher

    original_check = module.validate_distributed_device
    original_resolve = sim_launcher._resolve_distributed_device
    if ours.distributed and str(ours.device).startswith("cpu"):
        def resolve_on_cpu(cfg, args: dict) -> None:
            if getattr(cfg, "sim", None) is not None:
                cfg.sim.device = "cpu"
            args["device"] = "cpu"

        module.validate_distributed_device = lambda args_cli: None
        sim_launcher._resolve_distributed_device = resolve_on_cpu
    try:
        yield
    finally:
        module.validate_distributed_device = original_check
        sim_launcher._resolve_distributed_device = original_resolve

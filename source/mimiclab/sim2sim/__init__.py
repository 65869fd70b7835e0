"""MuJoCo runner for exported policies (only the exported artifact runs).

    from mimiclab.sim2sim.runner import run_sim2sim
    report = run_sim2sim("export/", ["clips/"], "sim2sim_out", video="out.mp4")

Independent of Isaac Lab: it shares only the robot facts (``mimiclab.robots``) and the deployment
contract (``mimiclab.deploy``) with the training task. Offscreen rendering: ``MUJOCO_GL`` as the
user set it, else chosen when ``mimiclab`` is imported (EGL with an NVIDIA driver, else OSMesa).
"""

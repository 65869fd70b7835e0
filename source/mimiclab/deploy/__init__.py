"""Deployment artifacts shared by export (rl/), play/eval and sim2sim: the contract and the ONNX policy.

No Isaac Lab here: sim2sim and robot-side tools import this package on machines without it.
"""

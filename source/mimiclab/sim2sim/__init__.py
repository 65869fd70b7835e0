"""MuJoCo runner for exported policies (only the exported artifact runs)."""

"""`mimiclab demo`: the main job end to end (pipeline.py) and its report (report.py)."""

from mimiclab.demo.pipeline import run_demo

__all__ = ["run_demo"]

"""Isaac Lab convention: ``python scripts/rsl_rl/play.py --checkpoint model.pt --motion clips/ [-o DIR]``.

Headless: runs the evaluation of ``mimiclab eval`` (every clip from its start, ``DIR/metrics.json``,
see ``mimiclab.rl.eval``). For a viewer use ``isaaclab play --rl_library rsl_rl --task
Mimic-Track-G1-Play --checkpoint ...`` with ``MIMICLAB_MOTION`` set.
"""

import sys

from mimiclab.cli import main

if __name__ == "__main__":
    sys.exit(main(["play", *sys.argv[1:]]))

"""Isaac Lab convention: ``python scripts/rsl_rl/train.py --task Mimic-Track-G1 --motion clips/ ...``.

Same as ``mimiclab train`` (see ``mimiclab.rl.train``): Isaac Lab's rsl_rl flags and Hydra overrides
pass through; ``--motion``, ``--resume`` and the device default are mimiclab's.
"""

import sys

from mimiclab.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))

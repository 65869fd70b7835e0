"""tests/retarget helpers: `bvh_corpus` (re-encodes real Bandai clips in other vocabularies and
conventions) is imported by name from this folder (pytest runs with --import-mode=importlib)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

"""Warnings about input files that were read, but with an assumption the user should know about
(a frame rate the file does not carry, implausible speeds, a root-relative motion, ...).

Readers call ``warn_input("<path>: <what was assumed, and how to override it>")``; the retarget
batch records them (``warnings`` in each ``.quality.json``) and prints each once on stderr.
"""

from __future__ import annotations

import warnings


class MotionInputWarning(UserWarning):
    """An input was read with an assumption (one line naming the file, the assumption and the fix)."""


def warn_input(message: str) -> None:
    """Emit a MotionInputWarning (one line: '<path>: <problem> (<how to override>)')."""
    warnings.warn(message, MotionInputWarning, stacklevel=2)

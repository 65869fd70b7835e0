"""Clip labels from file names: ``dataset-2_walk-turn-left_elderly_003`` → action
``walk-turn-left``, style ``elderly``, text ``"walk turn left, elderly"`` (the Bandai Namco
naming: optional ``dataset-N_`` prefix, action, style, take number)."""

from __future__ import annotations

import re

_NAME = re.compile(r"^(?:dataset-\d+_)?(?P<action>[A-Za-z][A-Za-z-]*)_(?P<style>[A-Za-z][A-Za-z-]*)_\d+$")


def clip_label(name: str) -> tuple[str, str]:
    """(action, style) of a clip name; a name in another pattern is its own action, style ''."""
    m = _NAME.match(name)
    if m is None:
        return name.lower(), ""
    return m["action"].lower(), m["style"].lower()


def label_text(action: str, style: str = "") -> str:
    """The prompt a label reads as: hyphens to spaces, style after a comma."""
    text = action.replace("-", " ").replace("_", " ")
    return f"{text}, {style.replace('-', ' ')}" if style else text

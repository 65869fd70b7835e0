"""What a ``mimiclab keypoints`` input is: one image, a folder of frames (sorted by name) or a video."""

from __future__ import annotations

from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
"""Read as one picture (static-image mode, no temporal filter); the same list as ``_worker.py``."""


def input_kind(path: str | Path) -> str:
    """"image" | "frames" | "video" for an existing path; ValueError("<path>: no such file or folder").

    Anything that is neither an image (by suffix) nor a folder is handed to the video reader, which
    refuses what it cannot decode ("not a readable video").
    """
    p = Path(path)
    if p.is_dir():
        return "frames"
    if not p.is_file():
        raise ValueError(f"{path}: no such file or folder")
    return "image" if p.suffix.lower() in IMAGE_SUFFIXES else "video"


def gif_without_durations(path: str | Path) -> bool:
    """True for an animated GIF none of whose frames states a duration: the video decoder then reads
    it at its own fallback rate (10 fps in OpenCV), which is a guess. False for anything else,
    including files Pillow cannot open (the video reader reports those)."""
    p = Path(path)
    if p.suffix.lower() != ".gif" or not p.is_file():
        return False
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(p) as im:
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                if float(im.info.get("duration") or 0.0) > 0:
                    return False  # one stated duration is enough: the decoder has a rate
    except (UnidentifiedImageError, OSError, EOFError):
        return False
    return True

"""Sound files as people upload them, made by sox at test time: any rate, channel count and format."""

from __future__ import annotations

import subprocess
from pathlib import Path

SOX_TIMEOUT_S = 30.0


def sox_tone(
    path: Path, seconds: float, frequency: float = 440.0, rate: int = 44_100, channels: int = 2, bits: int = 16
) -> Path:
    """A sine tone at `path`, in the format its suffix names (.wav, .mp3, .ogg)."""
    subprocess.run(
        ["sox", "-V1", "-n", "-r", str(rate), "-c", str(channels), "-b", str(bits), str(path),
         "synth", f"{seconds:g}", "sine", f"{frequency:g}", "vol", "0.5"],
        check=True,
        timeout=SOX_TIMEOUT_S,
    )  # fmt: skip
    return path

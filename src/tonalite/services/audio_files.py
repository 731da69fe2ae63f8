"""Audio in other formats than the platform's 8 kHz WAV, through sox (Debian packages sox and libsox-fmt-mp3),
run as a subprocess off the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

SOX_TIMEOUT_S = 60.0


class AudioConversionError(RuntimeError):
    """sox failed, or is missing."""


async def encode_mp3(wav: Path) -> bytes:
    """The WAV file as MP3 (for a notice's attachment, when its box asks for MP3)."""
    try:
        process = await asyncio.create_subprocess_exec(
            "sox", "-D", str(wav), "-t", "mp3", "-",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
    except OSError as error:
        raise AudioConversionError(f"sox cannot run: {error}") from error
    try:
        encoded, errors = await asyncio.wait_for(process.communicate(), SOX_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AudioConversionError(f"sox took more than {SOX_TIMEOUT_S:.0f} s on {wav.name}") from None
    if process.returncode != 0 or not encoded:
        raise AudioConversionError(f"sox could not encode {wav.name} as MP3: {errors.decode(errors='replace')[:300]}")
    return encoded

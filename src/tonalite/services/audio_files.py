"""Audio in other formats than the platform's 8 kHz WAV, through sox (Debian packages sox and libsox-fmt-mp3),
run as a subprocess: off the event loop (in a worker thread) when called from it."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import WavError, decode_wav

SOX_TIMEOUT_S = 60.0
_MPEG_SYNC = 0xFFE0
"""The 11 bits that open an MPEG audio frame."""


class AudioConversionError(RuntimeError):
    """sox failed, or is missing."""


class UnreadableAudio(AudioConversionError):
    """sox ran and could not read the file: it is not what its first bytes said, or it is damaged."""


class UploadFormat(StrEnum):
    """The formats taken from people, named as sox's `-t` names them."""

    WAV = "wav"
    MP3 = "mp3"
    OGG = "ogg"


def sniff_format(head: bytes) -> UploadFormat | None:
    """The format a file's first bytes announce (RIFF/WAVE, an ID3 tag or MPEG frame, OggS), else None.

    sox is always told the format: left to guess, it would also open playlists, which name other files.
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return UploadFormat.WAV
    if head[:4] == b"OggS":
        return UploadFormat.OGG
    if head[:3] == b"ID3" or (len(head) >= 2 and int.from_bytes(head[:2]) & _MPEG_SYNC == _MPEG_SYNC):
        return UploadFormat.MP3
    return None


def _sox(arguments: Sequence[str], what: str) -> bytes:
    """What sox writes to its standard output; UnreadableAudio when it fails on its input."""
    try:
        done = subprocess.run(["sox", "-V1", *arguments], capture_output=True, timeout=SOX_TIMEOUT_S, check=False)
    except OSError as error:
        raise AudioConversionError(f"sox cannot run: {error}") from error
    except subprocess.TimeoutExpired:
        raise AudioConversionError(f"sox took more than {SOX_TIMEOUT_S:.0f} s on {what}") from None
    if done.returncode != 0 or not done.stdout:
        raise UnreadableAudio(f"sox could not convert {what}: {done.stderr.decode(errors='replace')[:300]}")
    return done.stdout


async def encode_mp3(wav: Path) -> bytes:
    """The WAV file as MP3 (for a notice's attachment, when its box asks for MP3)."""
    return await asyncio.to_thread(_sox, ["-D", str(wav), "-t", "mp3", "-"], f"{wav.name} to MP3")


def decode_to_telephony(source: Path, audio_format: UploadFormat, max_seconds: float) -> npt.NDArray[np.int16]:
    """A file of any rate, channel count and sample size as the platform's 8 kHz mono 16-bit samples.

    Decoding stops at `max_seconds` (a small compressed file may hold hours): a result of that length means the
    file is at least that long. Blocking: run it in a worker thread from the event loop.
    """
    converted = _sox(
        ["-t", audio_format.value, str(source),
         "-t", "wav", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", "-",
         "trim", "0", f"{max_seconds:g}"],
        source.name,
    )  # fmt: skip
    try:
        return decode_wav(converted)
    except WavError as error:
        raise UnreadableAudio(f"sox gave no usable audio for {source.name}: {error}") from error

"""8 kHz mono 16-bit PCM WAV files: voice prompts, voicemail messages and call recordings.

Only the format the media engine plays and records is read (RIFF/WAVE, PCM or WAVE_FORMAT_EXTENSIBLE with the
PCM subformat, other chunks skipped); anything else raises a WavError saying what the file holds. A data chunk
whose size was never filled in, or runs past the end of the file, is read up to the end of the file: a
recording cut short by a crash keeps everything that reached the disk.

Plain synchronous file I/O: callers run it in a worker thread, off the event loop, but for
`WavRecorder.append`, which the media tick calls for each frame recorded (one write system call).
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from tonalite.media.g711 import SAMPLE_RATE, as_pcm16

StrPath = str | os.PathLike[str]

_PCM = 0x0001
_EXTENSIBLE = 0xFFFE
_FORMAT_NAMES = {
    _PCM: "PCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "µ-law",
    0x0011: "IMA ADPCM",
    0x0055: "MP3",
}
# An extensible subformat GUID is a format tag followed by these 12 bytes (KSDATAFORMAT_SUBTYPE_PCM and kin).
_SUBFORMAT_SUFFIX = uuid.UUID("00000000-0000-0010-8000-00aa00389b71").bytes_le[4:]
_CHUNK = struct.Struct("<4sI")
_FMT = struct.Struct("<HHIIHH")  # format tag, channels, sample rate, byte rate, block align, bits per sample
_EXTENSIBLE_FMT_SIZE = 40
_SUBFORMAT_OFFSET = 24
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
_MAX_DATA_SIZE = 0xFFFF_FFFF - (_HEADER.size - 8)
"""The RIFF size is 32-bit and counts the header after itself: about 74 hours at 16,000 bytes a second."""
_CONVERT_HINT = "convert with: sox INPUT -r 8000 -c 1 -b 16 -e signed-integer OUTPUT.wav"


class WavError(ValueError):
    """A file that is not an 8 kHz mono 16-bit PCM WAV, or audio that does not fit in one."""


def _check_data_size(data_size: int) -> None:
    if data_size > _MAX_DATA_SIZE:
        raise WavError(f"{data_size} bytes of audio do not fit in a WAV file (at most {_MAX_DATA_SIZE})")


def _header(data_size: int) -> bytes:
    _check_data_size(data_size)
    riff_size = _HEADER.size - 8 + data_size
    fmt = (_PCM, 1, SAMPLE_RATE, 2 * SAMPLE_RATE, 2, 16)
    return _HEADER.pack(b"RIFF", riff_size, b"WAVE", b"fmt ", _FMT.size, *fmt, b"data", data_size)


def _pcm_bytes(samples: npt.ArrayLike) -> bytes:
    """16-bit samples as little-endian bytes. Decoded audio (a recording's 50 frames a second per call) is an
    int16 array already, in range by its type: only other input needs `as_pcm16`'s checks."""
    if isinstance(samples, np.ndarray) and samples.dtype == np.int16 and samples.ndim == 1:
        return samples.astype("<i2", copy=False).tobytes()
    return as_pcm16(samples).astype("<i2", copy=False).tobytes()


def _describe(format_tag: int, bits: int, channels: int, rate: int) -> str:
    encoding = _FORMAT_NAMES.get(format_tag, f"format 0x{format_tag:04X}")
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")
    return f"{encoding} {bits}-bit {layout} {rate} Hz"


def _check_format(fmt: bytes) -> None:
    """Raises WavError unless the body of a fmt chunk describes 8 kHz mono 16-bit PCM."""
    if len(fmt) < _FMT.size:
        raise WavError("fmt chunk truncated or too short")
    format_tag, channels, rate, _byte_rate, _block_align, bits = _FMT.unpack_from(fmt)
    if format_tag == _EXTENSIBLE:
        if len(fmt) < _EXTENSIBLE_FMT_SIZE:
            raise WavError("WAVE_FORMAT_EXTENSIBLE fmt chunk truncated or too short")
        subformat = fmt[_SUBFORMAT_OFFSET:_EXTENSIBLE_FMT_SIZE]
        if subformat[4:] != _SUBFORMAT_SUFFIX:
            raise WavError(f"unknown WAVE_FORMAT_EXTENSIBLE subformat {uuid.UUID(bytes_le=subformat)}")
        format_tag = int.from_bytes(subformat[:4], "little")
    found = (format_tag, bits, channels, rate)
    expected = (_PCM, 16, 1, SAMPLE_RATE)
    if found != expected:
        raise WavError(f"{_describe(*found)}, expected {_describe(*expected)} ({_CONVERT_HINT})")


def decode_wav(data: bytes) -> npt.NDArray[np.int16]:
    """The samples of a WAV file's contents; WavError if it is not 8 kHz mono 16-bit PCM, or is cut in its header."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    format_checked = False
    position = 12
    while position + _CHUNK.size <= len(data):
        chunk_id, size = _CHUNK.unpack_from(data, position)
        body = position + _CHUNK.size
        if chunk_id == b"fmt ":
            _check_format(data[body : body + size])
            format_checked = True
        elif chunk_id == b"data":
            if not format_checked:
                raise WavError("data chunk before any fmt chunk")
            available = len(data) - body
            # An empty data chunk in a file longer than its RIFF size says is a recording never finalised.
            unfinished = size > available or (size == 0 and riff_size + 8 != len(data))
            sample_count = (available if unfinished else size) // 2
            return np.frombuffer(data, dtype="<i2", count=sample_count, offset=body).astype(np.int16)
        position = body + size + size % 2  # chunks are padded to an even length
    raise WavError("no data chunk (file truncated?)" if format_checked else "no fmt chunk (file truncated?)")


def encode_wav(samples: npt.ArrayLike) -> bytes:
    """A canonical 44-byte-header WAV file holding `samples` (checked as `as_pcm16` does)."""
    pcm = _pcm_bytes(samples)
    return _header(len(pcm)) + pcm


def read_wav(path: StrPath) -> npt.NDArray[np.int16]:
    """The samples of an 8 kHz mono 16-bit PCM WAV file; WavError, naming the file, for any other content."""
    try:
        return decode_wav(Path(path).read_bytes())
    except WavError as error:
        raise WavError(f"{os.fspath(path)}: {error}") from None


def _fsync_directory(directory: Path) -> None:
    """Makes a new directory entry durable: on POSIX a created or renamed file survives a power cut only then."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_wav(path: StrPath, samples: npt.ArrayLike) -> None:
    """Writes `samples` as a WAV file, atomically: the file at `path` is either the old one or the whole new one.

    The data goes to a temporary file (mode 0600) in the same directory, is synced, then renamed over `path`.
    """
    data = encode_wav(samples)
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with open(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(target.parent)


class WavRecorder:
    """A WAV file being recorded: frames are appended as they arrive, the header is completed by `close`.

    Until then the header declares no audio, which `read_wav` takes to mean "up to the end of the file": if the
    process dies mid-recording, the file still holds every appended frame (the file is unbuffered: each append
    is one write system call, cheap enough for the event loop's media tick; the file is synced on close).
    Never overwrites: an existing `path` raises FileExistsError.
    """

    def __init__(self, path: StrPath) -> None:
        self.path = Path(path)
        self._data_size = 0
        self._file = self.path.open("xb", buffering=0)
        try:
            self._write(_header(0))
        except BaseException:
            self._file.close()
            raise

    @property
    def sample_count(self) -> int:
        return self._data_size // 2

    @property
    def duration(self) -> float:
        """Seconds recorded so far."""
        return self.sample_count / SAMPLE_RATE

    @property
    def closed(self) -> bool:
        return self._file.closed

    def append(self, samples: npt.ArrayLike) -> None:
        """Adds 16-bit samples (checked as `as_pcm16` does) at the end; ValueError once closed."""
        pcm = _pcm_bytes(samples)
        _check_data_size(self._data_size + len(pcm))
        self._write(pcm)
        self._data_size += len(pcm)

    def _write(self, data: bytes) -> None:
        """An unbuffered write may take only part of `data` (a disk filling up): the rest is written after."""
        view = memoryview(data)
        while view:
            view = view[self._file.write(view) :]

    def close(self) -> None:
        """Writes the final sizes into the header and syncs the file; closing twice does nothing."""
        if self._file.closed:
            return
        try:
            self._file.seek(0)
            self._write(_header(self._data_size))
            os.fsync(self._file.fileno())
        finally:
            self._file.close()
        _fsync_directory(self.path.parent)

    def __enter__(self) -> WavRecorder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

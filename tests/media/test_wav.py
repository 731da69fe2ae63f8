from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tonalite.media.wav import WavError, WavRecorder, decode_wav, encode_wav, read_wav, write_wav

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

SAMPLES = np.array([0, 1, -1, 32767, -32768, 1234, -4321], dtype=np.int16)
PCM = SAMPLES.astype("<i2").tobytes()
FRAME = np.arange(-80, 80, dtype=np.int16) * 100  # 20 ms
PCM_GUID_TAIL = bytes.fromhex("000010008000") + bytes.fromhex("00aa00389b71")


def chunk(chunk_id: bytes, body: bytes) -> bytes:
    return struct.pack("<4sI", chunk_id, len(body)) + body + b"\x00" * (len(body) % 2)


def fmt(tag: int = 1, channels: int = 1, rate: int = 8000, bits: int = 16) -> bytes:
    block_align = channels * bits // 8
    return chunk(b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, rate * block_align, block_align, bits))


def extensible_fmt(subformat_tag: int = 1, channels: int = 1, rate: int = 8000, bits: int = 16) -> bytes:
    block_align = channels * bits // 8
    body = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block_align, block_align, bits)
    body += struct.pack("<HHI", 22, bits, 0x4)  # cbSize, valid bits, channel mask (front centre)
    body += struct.pack("<I", subformat_tag) + PCM_GUID_TAIL
    return chunk(b"fmt ", body)


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


CANONICAL = riff(fmt(), chunk(b"data", PCM))


def with_sizes(wav: bytes, riff_size: int, data_size: int) -> bytes:
    """A canonical file whose RIFF and data sizes are replaced, as a writer killed before finishing leaves them."""
    assert wav[36:40] == b"data"
    return wav[:4] + struct.pack("<I", riff_size) + wav[8:40] + struct.pack("<I", data_size) + wav[44:]


def test_write_then_read(tmp_path: Path) -> None:
    path = tmp_path / "prompt.wav"
    write_wav(path, SAMPLES)
    assert path.read_bytes() == CANONICAL
    read = read_wav(path)
    assert read.dtype == np.int16
    assert (read == SAMPLES).all()
    assert encode_wav(SAMPLES) == CANONICAL


def test_write_and_read_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    write_wav(str(path), [])
    assert path.read_bytes() == riff(fmt(), chunk(b"data", b""))
    assert read_wav(str(path)).shape == (0,)


@pytest.mark.parametrize(
    "wav",
    [
        pytest.param(CANONICAL, id="canonical"),
        pytest.param(riff(extensible_fmt(), chunk(b"data", PCM)), id="extensible"),
        pytest.param(
            riff(fmt(), chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00sox\x00\x00"), chunk(b"data", PCM)), id="LIST"
        ),
        pytest.param(
            riff(chunk(b"JUNK", b"odd"), fmt(), chunk(b"fact", b"\x07\0\0\0"), chunk(b"data", PCM)), id="padded"
        ),
        pytest.param(riff(fmt(), chunk(b"data", PCM), chunk(b"LIST", b"INFO")), id="chunk after data"),
    ],
)
def test_read_hand_built_files(tmp_path: Path, wav: bytes) -> None:
    path = tmp_path / "in.wav"
    path.write_bytes(wav)
    assert read_wav(path).tolist() == SAMPLES.tolist()


def test_read_result_is_writable() -> None:
    samples = decode_wav(CANONICAL)
    samples[0] = 5
    assert samples[0] == 5


@pytest.mark.parametrize(
    ("wav", "message"),
    [
        pytest.param(riff(fmt(rate=16000), chunk(b"data", PCM)), "16000 Hz", id="rate"),
        pytest.param(riff(fmt(channels=2), chunk(b"data", PCM)), "stereo", id="stereo"),
        pytest.param(riff(fmt(bits=8), chunk(b"data", PCM)), "8-bit", id="8-bit"),
        pytest.param(riff(fmt(tag=6, bits=8), chunk(b"data", PCM)), "A-law", id="A-law"),
        pytest.param(riff(fmt(tag=0x11, bits=4), chunk(b"data", PCM)), "IMA ADPCM", id="ADPCM"),
        pytest.param(riff(fmt(tag=0x1234), chunk(b"data", PCM)), "format 0x1234", id="unknown tag"),
        pytest.param(riff(extensible_fmt(subformat_tag=3, bits=32), chunk(b"data", PCM)), "IEEE float", id="float"),
        pytest.param(riff(extensible_fmt(channels=2), chunk(b"data", PCM)), "stereo", id="extensible stereo"),
        pytest.param(
            riff(chunk(b"fmt ", extensible_fmt()[8:-16] + bytes(16)), chunk(b"data", PCM)),
            "unknown WAVE_FORMAT_EXTENSIBLE subformat",
            id="unknown subformat",
        ),
        pytest.param(riff(chunk(b"fmt ", extensible_fmt()[8:30])), "EXTENSIBLE fmt chunk truncated", id="short ext"),
        pytest.param(riff(chunk(b"fmt ", fmt()[8:20]), chunk(b"data", PCM)), "fmt chunk truncated", id="short fmt"),
        pytest.param(CANONICAL[:30], "fmt chunk truncated", id="cut in fmt"),
        pytest.param(CANONICAL[:38], "no data chunk", id="cut before data"),
        pytest.param(CANONICAL[:12], "no fmt chunk", id="cut after WAVE"),
        pytest.param(riff(chunk(b"data", PCM), fmt()), "data chunk before any fmt chunk", id="data first"),
        pytest.param(riff(fmt()), "no data chunk", id="no data"),
        pytest.param(b"", "not a RIFF/WAVE file", id="empty"),
        pytest.param(b"RIFX" + CANONICAL[4:], "not a RIFF/WAVE file", id="big-endian RIFX"),
        pytest.param(CANONICAL[:8] + b"AVI " + CANONICAL[12:], "not a RIFF/WAVE file", id="RIFF not WAVE"),
        pytest.param(b"ID3\x04" + bytes(100), "not a RIFF/WAVE file", id="MP3"),
    ],
)
def test_refused_files_raise_wav_error(tmp_path: Path, wav: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(wav)
    with pytest.raises(WavError, match=message) as raised:
        read_wav(path)
    assert str(path) in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_refusal_says_what_is_expected_and_how_to_convert() -> None:
    with pytest.raises(WavError) as raised:
        decode_wav(riff(fmt(channels=2, rate=44100), chunk(b"data", PCM)))
    assert str(raised.value).startswith("PCM 16-bit stereo 44100 Hz, expected PCM 16-bit mono 8000 Hz (convert")


@pytest.mark.parametrize(
    ("riff_size", "data_size"),
    [
        pytest.param(0, 0, id="never written"),
        pytest.param(36, 0, id="header of an empty file"),
        pytest.param(0xFFFF_FFFF, 0xFFFF_FFFF, id="streaming placeholder"),
        pytest.param(36 + len(PCM), len(PCM) + 1000, id="data size too large"),
    ],
)
def test_wrong_sizes_are_read_to_the_end_of_the_file(riff_size: int, data_size: int) -> None:
    assert decode_wav(with_sizes(CANONICAL, riff_size, data_size)).tolist() == SAMPLES.tolist()


def test_data_cut_in_the_middle_of_a_sample_drops_that_half_sample() -> None:
    assert decode_wav(CANONICAL[:-1]).tolist() == SAMPLES[:-1].tolist()
    assert decode_wav(with_sizes(CANONICAL, 0, 0) + b"\x01").tolist() == SAMPLES.tolist()


def test_empty_data_chunk_is_trusted_when_the_riff_size_matches() -> None:
    wav = riff(fmt(), chunk(b"data", b""), chunk(b"LIST", b"INFO"))
    assert decode_wav(wav).shape == (0,)


def test_recorder_writes_a_canonical_file(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    with WavRecorder(path) as recorder:
        assert recorder.path == path
        recorder.append(SAMPLES[:3])
        recorder.append(SAMPLES[3:].tolist())
        recorder.append([])
        assert recorder.sample_count == len(SAMPLES)
    assert recorder.closed
    assert path.read_bytes() == CANONICAL
    recorder.close()  # a second close changes nothing
    assert path.read_bytes() == CANONICAL
    with pytest.raises(ValueError, match="closed"):
        recorder.append(SAMPLES)


def test_recorder_duration(tmp_path: Path) -> None:
    recorder = WavRecorder(tmp_path / "call.wav")
    assert recorder.duration == 0.0
    for _ in range(75):
        recorder.append(FRAME)
    assert recorder.duration == 1.5
    recorder.close()
    assert recorder.duration == 1.5
    assert len(read_wav(recorder.path)) == 12000


def test_recorder_without_frames_is_an_empty_wav(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    recorder = WavRecorder(path)
    assert read_wav(path).shape == (0,)
    recorder.close()
    assert path.read_bytes() == riff(fmt(), chunk(b"data", b""))


def test_recording_in_progress_is_readable_before_close(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    with WavRecorder(path) as recorder:
        recorder.append(FRAME)
        recorder.append(FRAME)
        assert read_wav(path).tolist() == np.concatenate([FRAME, FRAME]).tolist()


class _ShortWrites(io.FileIO):
    """A file whose writes take at most 7 bytes, as an unbuffered write may on a disk filling up."""

    def write(self, data: ReadableBuffer, /) -> int:
        return super().write(memoryview(data)[:7])


def test_recorder_completes_short_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "call.wav"
    with monkeypatch.context() as patch:
        patch.setattr(Path, "open", lambda path, mode, buffering: _ShortWrites(path, mode))
        with WavRecorder(path) as recorder:
            recorder.append(SAMPLES)
    assert path.read_bytes() == CANONICAL


def test_recorder_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(b"an earlier recording")
    with pytest.raises(FileExistsError):
        WavRecorder(path)
    assert path.read_bytes() == b"an earlier recording"


def test_recorder_refuses_bad_samples(tmp_path: Path) -> None:
    with WavRecorder(tmp_path / "call.wav") as recorder:
        with pytest.raises(ValueError):
            recorder.append([40000])
        with pytest.raises(TypeError):
            recorder.append(b"\x00\x01")
        assert recorder.sample_count == 0


def _record_and_die(path: Path, frame_count: int) -> None:
    """Runs a recorder in another process that appends `frame_count` frames of FRAME and is then killed."""
    script = textwrap.dedent(
        f"""
        import os
        import numpy as np
        from tonalite.media.wav import WavRecorder
        recorder = WavRecorder({str(path)!r})
        for _ in range({frame_count}):
            recorder.append(np.arange(-80, 80, dtype=np.int16) * 100)
        os._exit(9)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert result.returncode == 9


def test_recording_killed_mid_way_keeps_every_frame(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    _record_and_die(path, 3)
    assert struct.unpack_from("<I", path.read_bytes(), 40) == (0,)  # the header was never finalised
    assert read_wav(path).tolist() == np.tile(FRAME, 3).tolist()


def test_recording_killed_in_the_middle_of_a_write(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    _record_and_die(path, 3)
    os.truncate(path, path.stat().st_size - 5)  # the last write only partly reached the disk
    assert read_wav(path).tolist() == np.tile(FRAME, 3)[:-3].tolist()


def test_closed_recording_truncated_afterwards(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    with WavRecorder(path) as recorder:
        recorder.append(FRAME)
    os.truncate(path, path.stat().st_size - 40)
    assert read_wav(path).tolist() == FRAME[:-20].tolist()


def test_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_wav(tmp_path / "prompt.wav", SAMPLES)
    assert [entry.name for entry in tmp_path.iterdir()] == ["prompt.wav"]


def test_write_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "prompt.wav"
    write_wav(path, FRAME)
    write_wav(path, SAMPLES)
    assert read_wav(path).tolist() == SAMPLES.tolist()
    assert [entry.name for entry in tmp_path.iterdir()] == ["prompt.wav"]


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prompt.wav"
    write_wav(path, FRAME)

    def disk_failure(descriptor: int) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "fsync", disk_failure)
    with pytest.raises(OSError, match="no space left"):
        write_wav(path, SAMPLES)
    assert read_wav(path).tolist() == FRAME.tolist()
    assert [entry.name for entry in tmp_path.iterdir()] == ["prompt.wav"]


def test_write_refuses_bad_samples_before_touching_the_disk(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_wav(tmp_path / "prompt.wav", [1, 2, 70000])
    assert list(tmp_path.iterdir()) == []


def test_write_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_wav(tmp_path / "missing" / "prompt.wav", SAMPLES)
    assert list(tmp_path.iterdir()) == []

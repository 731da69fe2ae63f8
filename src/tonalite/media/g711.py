"""G.711 PCMU (µ-law) and PCMA (A-law): 8-bit codes to and from 16-bit linear samples, by table lookup.

The tables are built once at import from the ITU-T G.711 segment rules. The standard quantises 14-bit (µ-law)
and 13-bit (A-law) samples; a 16-bit sample is reduced to those as the usual 16-bit implementations do: µ-law
takes the magnitude, clips it at 32635 and adds the bias 0x84 before finding the segment, so it is symmetric
about zero; A-law, which has no zero code, takes the one's complement of a negative sample, so -1 mirrors 0.
A code decodes to the middle of its quantisation interval (µ-law's first interval, 0..3, decodes to 0).

One code is one sample, so a payload of any length (odd included) decodes; a 20 ms RTP packet holds 160.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
"""Samples per second of both laws (and of RTP payload types 0 and 8)."""

Payload = bytes | bytearray | memoryview

_ULAW_BIAS = 0x84
_ULAW_CLIP = 32635
_ALAW_EVEN_BITS = 0x55
# Where segments 1..7 start: biased magnitude for µ-law, magnitude >> 4 for A-law.
_ULAW_SEGMENT_STARTS = np.array([0x100 << segment for segment in range(7)])
_ALAW_SEGMENT_STARTS = np.array([0x10 << segment for segment in range(7)])


def as_pcm16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """`samples` as a one-dimensional int16 array; integers outside -32768..32767 are refused, not wrapped.

    Raises TypeError for bytes (raw little-endian PCM is `numpy.frombuffer(data, "<i2")`) and for anything that
    is not integers, ValueError for a value out of range or an array that is not one-dimensional.
    """
    if isinstance(samples, bytes | bytearray | memoryview):
        raise TypeError('expected linear samples, not bytes; raw PCM is numpy.frombuffer(data, "<i2")')
    array = np.asarray(samples)
    if array.ndim != 1:
        raise ValueError(f"expected a one-dimensional sequence of samples, got {array.ndim} dimensions")
    if array.size == 0:
        return np.zeros(0, dtype=np.int16)
    if array.dtype.kind not in "iu":
        raise TypeError(f"expected integer samples, got {array.dtype}")
    if array.min() < -32768 or array.max() > 32767:
        raise ValueError("sample out of the 16-bit range -32768..32767")
    return array.astype(np.int16, copy=False)


def _all_int16() -> npt.NDArray[np.int32]:
    """Every 16-bit sample, at the index of its bit pattern as uint16 (0, 1, …, 32767, -32768, …, -1)."""
    return np.arange(1 << 16, dtype=np.uint16).view(np.int16).astype(np.int32)


def _ulaw_decode_table() -> npt.NDArray[np.int16]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    segment = (code >> 4) & 0x07
    magnitude = ((((code & 0x0F) << 3) + _ULAW_BIAS) << segment) - _ULAW_BIAS
    return np.asarray(np.where(code & 0x80, -magnitude, magnitude), dtype=np.int16)


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    linear = _all_int16()
    biased = np.minimum(np.abs(linear), _ULAW_CLIP) + _ULAW_BIAS
    segment = np.searchsorted(_ULAW_SEGMENT_STARTS, biased, side="right")
    mantissa = (biased >> (segment + 3)) & 0x0F
    sign = np.where(linear < 0, 0x80, 0)
    return np.asarray(~(sign | segment << 4 | mantissa) & 0xFF, dtype=np.uint8)


def _alaw_decode_table() -> npt.NDArray[np.int16]:
    code = np.arange(256, dtype=np.int32) ^ _ALAW_EVEN_BITS
    segment = (code >> 4) & 0x07
    step = (code & 0x0F) << 4
    magnitude = np.where(segment == 0, step + 8, (step + 0x108) << np.maximum(segment - 1, 0))
    return np.asarray(np.where(code & 0x80, magnitude, -magnitude), dtype=np.int16)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    linear = _all_int16()
    # A-law has no zero: -1 and 0 fall in mirror intervals, hence the one's complement of negative samples.
    magnitude = np.where(linear < 0, ~linear, linear) >> 4
    segment = np.searchsorted(_ALAW_SEGMENT_STARTS, magnitude, side="right")
    mantissa = (magnitude >> np.maximum(segment - 1, 0)) & 0x0F
    sign = np.where(linear < 0, 0, 0x80)
    return np.asarray((sign | segment << 4 | mantissa) ^ _ALAW_EVEN_BITS, dtype=np.uint8)


_ULAW_DECODE = _ulaw_decode_table()
_ULAW_ENCODE = _ulaw_encode_table()
_ALAW_DECODE = _alaw_decode_table()
_ALAW_ENCODE = _alaw_encode_table()


def _decode(table: npt.NDArray[np.int16], payload: Payload) -> npt.NDArray[np.int16]:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError(f"expected a bytes-like G.711 payload, got {type(payload).__name__}")
    codes = np.frombuffer(payload, dtype=np.uint8)
    decoded: npt.NDArray[np.int16] = table[codes]
    return decoded


def _encode(table: npt.NDArray[np.uint8], samples: npt.ArrayLike) -> bytes:
    return table[as_pcm16(samples).view(np.uint16)].tobytes()


def decode_ulaw(payload: Payload) -> npt.NDArray[np.int16]:
    """µ-law codes -> linear samples (a new array, one sample per byte). TypeError if not bytes-like."""
    return _decode(_ULAW_DECODE, payload)


def encode_ulaw(samples: npt.ArrayLike) -> bytes:
    """Linear 16-bit samples -> µ-law codes, one byte per sample; input is checked as `as_pcm16` does."""
    return _encode(_ULAW_ENCODE, samples)


def decode_alaw(payload: Payload) -> npt.NDArray[np.int16]:
    """A-law codes -> linear samples (a new array, one sample per byte). TypeError if not bytes-like."""
    return _decode(_ALAW_DECODE, payload)


def encode_alaw(samples: npt.ArrayLike) -> bytes:
    """Linear 16-bit samples -> A-law codes, one byte per sample; input is checked as `as_pcm16` does."""
    return _encode(_ALAW_ENCODE, samples)


@dataclass(frozen=True, slots=True)
class G711Codec:
    """One law as RTP and SDP see it: static payload type (RFC 3551), rtpmap name, silence and conversions."""

    encoding_name: str
    payload_type: int
    silence_code: int
    """The code that decodes to (nearest) zero: what to send when there is nothing to say."""
    decode: Callable[[Payload], npt.NDArray[np.int16]]
    encode: Callable[[npt.ArrayLike], bytes]

    def silence(self, sample_count: int) -> bytes:
        """A payload of `sample_count` silent samples (160 for a 20 ms packet)."""
        return bytes([self.silence_code]) * sample_count


PCMU = G711Codec("PCMU", 0, 0xFF, decode_ulaw, encode_ulaw)
PCMA = G711Codec("PCMA", 8, 0xD5, decode_alaw, encode_alaw)

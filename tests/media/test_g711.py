from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from tonalite.media.g711 import (
    PCMA,
    PCMU,
    SAMPLE_RATE,
    G711Codec,
    as_pcm16,
    decode_alaw,
    decode_ulaw,
    encode_alaw,
    encode_ulaw,
)

ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)
CODECS = [pytest.param(PCMU, id="PCMU"), pytest.param(PCMA, id="PCMA")]

Decode = Callable[[bytes], npt.NDArray[np.int16]]

# Expected values worked out from the G.711 tables, scaled to 16 bits (µ-law units x4, A-law units x8).
# µ-law: code = 0xFF - (segment << 4 | step) for a positive value, 0x7F - (...) for a negative one;
# output = ((132 + 8 * step) << segment) - 132.
ULAW_DECODED = {
    0xFF: 0,  # segment 0 step 0
    0xFE: 8,  # segment 0 step 1
    0xF0: 120,  # segment 0 step 15
    0xEF: 132,  # segment 1 step 0: (132 << 1) - 132
    0xE0: 372,  # segment 1 step 15: (252 << 1) - 132
    0xDF: 396,  # segment 2 step 0: (132 << 2) - 132
    0x8F: 16764,  # segment 7 step 0: (132 << 7) - 132
    0x80: 32124,  # segment 7 step 15: (252 << 7) - 132
    0x7F: 0,
    0x7E: -8,
    0x6F: -132,
    0x00: -32124,
}
# A-law: code = (0x80 | segment << 4 | step) ^ 0x55 for a positive value, without 0x80 for a negative one;
# output = 16 * step + 8 in segment 0, (16 * step + 264) << (segment - 1) above.
ALAW_DECODED = {
    0xD5: 8,  # segment 0 step 0
    0xD4: 24,  # segment 0 step 1
    0xDA: 248,  # segment 0 step 15
    0xC5: 264,  # segment 1 step 0
    0xCA: 504,  # segment 1 step 15
    0xF5: 528,  # segment 2 step 0: 264 << 1
    0xA5: 16896,  # segment 7 step 0: 264 << 6
    0xAA: 32256,  # segment 7 step 15: 504 << 6
    0x55: -8,
    0x54: -24,
    0x2A: -32256,
}
# Decision values: the first linear sample of an interval, and the one before it.
ULAW_ENCODED = {
    0: 0xFF,
    3: 0xFF,
    4: 0xFE,
    11: 0xFE,
    12: 0xFD,
    123: 0xF0,
    124: 0xEF,
    16251: 0x90,
    16252: 0x8F,
    32124: 0x80,
    32767: 0x80,  # clipped
    -1: 0x7F,
    -3: 0x7F,
    -4: 0x7E,
    -124: 0x6F,
    -32768: 0x00,
}
ALAW_ENCODED = {
    0: 0xD5,
    15: 0xD5,
    16: 0xD4,
    255: 0xDA,
    256: 0xC5,
    511: 0xCA,
    512: 0xF5,
    32767: 0xAA,
    -1: 0x55,
    -16: 0x55,
    -17: 0x54,
    -32768: 0x2A,
}


@pytest.mark.parametrize(("decode", "expected"), [(decode_ulaw, ULAW_DECODED), (decode_alaw, ALAW_DECODED)])
def test_decode_reference_values(decode: Decode, expected: dict[int, int]) -> None:
    decoded = decode(ALL_CODES)
    assert {code: int(decoded[code]) for code in expected} == expected


@pytest.mark.parametrize(("encode", "expected"), [(encode_ulaw, ULAW_ENCODED), (encode_alaw, ALAW_ENCODED)])
def test_encode_reference_values(encode: Callable[[list[int]], bytes], expected: dict[int, int]) -> None:
    assert encode(list(expected)) == bytes(expected.values())


@pytest.mark.parametrize("codec", CODECS)
def test_decode_is_odd_symmetric(codec: G711Codec) -> None:
    decoded = codec.decode(ALL_CODES).astype(np.int32)
    assert (decoded[0x80:] == -decoded[:0x80]).all()


@pytest.mark.parametrize("codec", CODECS)
def test_every_code_survives_a_round_trip(codec: G711Codec) -> None:
    decoded = codec.decode(ALL_CODES)
    reencoded = codec.encode(decoded)
    assert (codec.decode(reencoded) == decoded).all()
    # µ-law has two zeros, +0 (0xFF) and -0 (0x7F); a linear 0 encodes as +0.
    expected = bytes(0xFF if codec is PCMU and code == 0x7F else code for code in ALL_CODES)
    assert reencoded == expected


def _positive_codes_ascending(codec: G711Codec) -> bytes:
    """The 128 positive codes from smallest to largest magnitude (segment 0 step 0 to segment 7 step 15)."""
    if codec is PCMU:
        return bytes(0xFF - rank for rank in range(128))
    return bytes((0x80 | rank) ^ 0x55 for rank in range(128))


@pytest.mark.parametrize(
    ("codec", "step_per_segment"),
    [
        pytest.param(PCMU, [8, 16, 32, 64, 128, 256, 512, 1024], id="PCMU"),
        pytest.param(PCMA, [16, 16, 32, 64, 128, 256, 512, 1024], id="PCMA"),
    ],
)
def test_decode_is_monotonic_with_the_step_doubling_each_segment(codec: G711Codec, step_per_segment: list[int]) -> None:
    positive = codec.decode(_positive_codes_ascending(codec)).astype(np.int32)
    steps = np.diff(positive)
    assert (steps > 0).all()
    for segment, step in enumerate(step_per_segment):
        inside = steps[segment * 16 : segment * 16 + 15]
        assert (inside == step).all(), segment
    negative = codec.decode(bytes(code ^ 0x80 for code in _positive_codes_ascending(codec)))
    assert (np.diff(negative.astype(np.int32)) < 0).all()


@pytest.mark.parametrize("codec", CODECS)
def test_encoding_every_sample_is_monotonic_and_within_half_a_step(codec: G711Codec) -> None:
    decoded = codec.decode(codec.encode(ALL_SAMPLES)).astype(np.int32)
    assert (np.diff(decoded) >= 0).all()
    unclipped = np.abs(ALL_SAMPLES.astype(np.int32)) <= 32124
    assert (np.abs(decoded - ALL_SAMPLES)[unclipped] <= 512).all()


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("frequency", [1000, 1004])  # 1004 Hz: the test tone that does not divide 8 kHz
@pytest.mark.parametrize("amplitude", [1000, 10000, 30000])
def test_sine_round_trip_signal_to_noise(codec: G711Codec, frequency: int, amplitude: int) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    sine = np.round(amplitude * np.sin(2 * np.pi * frequency * t + 0.1)).astype(np.int16)
    error = codec.decode(codec.encode(sine)).astype(np.float64) - sine
    snr = 10 * np.log10(np.sum(sine.astype(np.float64) ** 2) / np.sum(error**2))
    assert snr > 30


@pytest.mark.parametrize("codec", CODECS)
def test_empty_input(codec: G711Codec) -> None:
    decoded = codec.decode(b"")
    assert decoded.dtype == np.int16
    assert decoded.shape == (0,)
    assert codec.encode([]) == b""
    assert codec.encode(np.zeros(0, dtype=np.int16)) == b""


@pytest.mark.parametrize("codec", CODECS)
def test_payload_of_any_length_and_bytes_like_type_decodes(codec: G711Codec) -> None:
    payload = bytes([0x12, 0x34, 0xAB])
    expected = codec.decode(payload)
    assert expected.shape == (3,)
    assert (codec.decode(bytearray(payload)) == expected).all()
    assert (codec.decode(memoryview(payload)) == expected).all()


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("payload", ["\x00\x01", [0, 1], np.array([0, 1], dtype=np.uint8), None])
def test_decode_refuses_what_is_not_bytes(codec: G711Codec, payload: object) -> None:
    with pytest.raises(TypeError):
        codec.decode(payload)  # type: ignore[arg-type]


@pytest.mark.parametrize("codec", CODECS)
def test_decoded_array_is_a_fresh_writable_copy(codec: G711Codec) -> None:
    first = codec.decode(b"\x00")
    first[0] = 1
    assert codec.decode(b"\x00")[0] != 1


@pytest.mark.parametrize("codec", CODECS)
def test_encode_takes_any_integer_array(codec: G711Codec) -> None:
    samples = [-32768, -1000, 0, 1000, 32767]
    expected = codec.encode(np.array(samples, dtype=np.int16))
    assert codec.encode(samples) == expected
    assert codec.encode(np.array(samples, dtype=">i2")) == expected
    assert codec.encode(np.array(samples, dtype=np.int64)) == expected
    assert codec.encode(tuple(samples)) == expected


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    ("samples", "error"),
    [
        pytest.param(b"\x00\x01", TypeError, id="bytes"),
        pytest.param(bytearray(b"\x00\x01"), TypeError, id="bytearray"),
        pytest.param([0.5, 1.0], TypeError, id="floats"),
        pytest.param(np.array([True]), TypeError, id="booleans"),
        pytest.param([32768], ValueError, id="above int16"),
        pytest.param([-32769], ValueError, id="below int16"),
        pytest.param(np.array([65535], dtype=np.uint16), ValueError, id="uint16 above int16"),
        pytest.param([[0, 1]], ValueError, id="two dimensions"),
        pytest.param(7, ValueError, id="scalar"),
    ],
)
def test_encode_refuses_what_is_not_16_bit_samples(codec: G711Codec, samples: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        codec.encode(samples)  # type: ignore[arg-type]


def test_as_pcm16_returns_native_int16_without_copying_int16() -> None:
    samples = np.array([1, -2], dtype=np.int16)
    assert as_pcm16(samples) is samples
    converted = as_pcm16([1, -2])
    assert converted.dtype == np.int16
    assert converted.tolist() == [1, -2]


def test_codec_descriptions_and_silence() -> None:
    assert (PCMU.encoding_name, PCMU.payload_type) == ("PCMU", 0)
    assert (PCMA.encoding_name, PCMA.payload_type) == ("PCMA", 8)
    assert PCMU.silence(160) == b"\xff" * 160
    assert PCMA.silence(160) == b"\xd5" * 160
    assert PCMU.silence(0) == b""
    assert (decode_ulaw(PCMU.silence(3)) == 0).all()
    assert (decode_alaw(PCMA.silence(3)) == 8).all()  # A-law has no zero: the smallest positive value
    assert encode_ulaw(np.zeros(4, dtype=np.int16)) == PCMU.silence(4)
    assert encode_alaw(np.zeros(4, dtype=np.int16)) == PCMA.silence(4)

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

from tonalite.sip.sdp import (
    MAX_FORMATS,
    MAX_LINES,
    MAX_MEDIA,
    MAX_SIZE,
    STATIC_PAYLOAD_TYPES,
    Attribute,
    Bandwidth,
    Codec,
    Connection,
    Direction,
    MediaDescription,
    Origin,
    RtcpAttribute,
    SdpError,
    SessionDescription,
    Timing,
    answer,
    check_answer,
)

PCMU = Codec("PCMU", 8000)
PCMA = Codec("PCMA", 8000)
G722 = Codec("G722", 8000)
G729 = Codec("G729", 8000)
TELEPHONE_EVENT = Codec("telephone-event", 8000)
OURS = (PCMA, PCMU, TELEPHONE_EVENT)


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def parse(text: str) -> SessionDescription:
    return SessionDescription.parse(crlf(text))


# RFC 3264 §10.1 "Basic Exchange": Alice offers audio and two video streams, Bob rejects the first video stream;
# later Bob changes his audio port and adds a receive-only telephone-events stream, which Alice accepts.
RFC3264_10_1_OFFER = """\
v=0
o=alice 2890844526 2890844526 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 51372 RTP/AVP 31
a=rtpmap:31 H261/90000
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""
RFC3264_10_1_ANSWER = """\
v=0
o=bob 2890844730 2890844730 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 49920 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""
RFC3264_10_1_REOFFER = """\
v=0
o=bob 2890844730 2890844731 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 65422 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
m=audio 51434 RTP/AVP 110
a=rtpmap:110 telephone-events/8000
a=recvonly
"""
RFC3264_10_1_REANSWER = """\
v=0
o=alice 2890844526 2890844527 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
a=rtpmap:31 H261/90000
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
m=audio 53122 RTP/AVP 110
a=rtpmap:110 telephone-events/8000
a=sendonly
"""
# RFC 3264 §10.2 "One of N Codec Selection": an inactive offer of three codecs, an answer with two, then an
# updated offer locking one codec down, and its answer.
RFC3264_10_2_OFFER = """\
v=0
o=alice 2890844526 2890844526 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 62986 RTP/AVP 0 4 18
a=rtpmap:0 PCMU/8000
a=rtpmap:4 G723/8000
a=rtpmap:18 G729/8000
a=inactive
"""
RFC3264_10_2_ANSWER = """\
v=0
o=bob 2890844730 2890844731 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 54344 RTP/AVP 0 4
a=rtpmap:0 PCMU/8000
a=rtpmap:4 G723/8000
a=inactive
"""
RFC3264_10_2_REOFFER = """\
v=0
o=alice 2890844526 2890844527 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 62986 RTP/AVP 4
a=rtpmap:4 G723/8000
a=sendrecv
"""
RFC3264_10_2_REANSWER = """\
v=0
o=bob 2890844730 2890844732 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 54344 RTP/AVP 4
a=rtpmap:4 G723/8000
a=sendrecv
"""

# Written after what desk phones and softphones send; addresses from the documentation ranges.
YEALINK = """\
v=0
o=- 20010 20010 IN IP4 192.0.2.64
s=SDP data
c=IN IP4 192.0.2.64
t=0 0
m=audio 11780 RTP/AVP 0 8 18 9 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:9 G722/8000
a=fmtp:101 0-15
a=rtpmap:101 telephone-event/8000
a=ptime:20
a=sendrecv
"""
POLYCOM = """\
v=0
o=- 1715245320 1715245320 IN IP4 192.0.2.23
s=Polycom IP Phone
c=IN IP4 192.0.2.23
t=0 0
a=sendrecv
m=audio 2226 RTP/AVP 9 102 0 8 18 127
a=rtpmap:9 G722/8000
a=rtpmap:102 G7221/16000
a=fmtp:102 bitrate=32000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:127 telephone-event/8000
"""
BARESIP = """\
v=0
o=- 1402394625 1786474127 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
a=tool:baresip 3.10.1
m=audio 10118 RTP/AVP 96 9 0 8 101
b=AS:80
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp:10119 IN IP4 192.0.2.10
a=rtcp-mux
a=sendrecv
a=label:1
a=ssrc:3410468302 cname:a1b2c3d4
a=ptime:20
"""
# Audio and video on one line, each with its own c=, a media title, a session bandwidth, an unknown y= line.
VIDEOPHONE = """\
v=0
o=carol 3724394400 3724394401 IN IP6 2001:db8::7
s=Video call
i=Weekly meeting
u=https://example.com/meeting
e=carol@example.com
p=+33 1 99 00 00 01
b=CT:1024
t=3034423619 3042462419
r=604800 3600 0 90000
k=prompt
a=recvonly
m=audio 49232 RTP/AVP 8 97
i=Voice
c=IN IP6 2001:db8::7
y=0102030405
a=rtpmap:97 telephone-event/8000
m=video 49234 RTP/AVP 99
c=IN IP6 2001:db8::8
b=AS:512
a=rtpmap:99 H264/90000
a=fmtp:99 profile-level-id=42e01f;packetization-mode=1
a=sendrecv
"""
RFC_EXAMPLES = [
    RFC3264_10_1_OFFER,
    RFC3264_10_1_ANSWER,
    RFC3264_10_1_REOFFER,
    RFC3264_10_1_REANSWER,
    RFC3264_10_2_OFFER,
    RFC3264_10_2_ANSWER,
    RFC3264_10_2_REOFFER,
    RFC3264_10_2_REANSWER,
]
SAMPLES = [*RFC_EXAMPLES, YEALINK, POLYCOM, BARESIP, VIDEOPHONE]


def audio_offer(formats: str, *attributes: str, proto: str = "RTP/AVP", session: str = "") -> SessionDescription:
    lines = "".join(f"a={attribute}\n" for attribute in attributes)
    return parse(
        f"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n{session}"
        f"m=audio 4000 {proto} {formats}\n{lines}"
    )


# Parsing and serialising


@pytest.mark.parametrize("text", SAMPLES)
def test_samples_round_trip_and_serialise_with_crlf(text: str) -> None:
    description = parse(text)
    wire = description.serialise()
    assert SessionDescription.parse(wire) == description
    assert wire.endswith(b"\r\n")
    assert b"\n" not in wire.replace(b"\r\n", b"")


def test_a_description_in_field_order_serialises_to_the_same_bytes() -> None:
    assert parse(YEALINK).serialise() == crlf(YEALINK)
    assert parse(VIDEOPHONE).serialise() == crlf(VIDEOPHONE)


def test_the_rfc3264_offer_reads_as_written() -> None:
    offer = parse(RFC3264_10_1_OFFER)
    assert offer.origin == Origin("alice", 2890844526, 2890844526, "host.anywhere.com")
    assert offer.name == ""
    assert offer.timings == (Timing(0, 0),)
    assert [(m.media, m.port, m.proto, m.formats) for m in offer.media] == [
        ("audio", 49170, "RTP/AVP", ("0",)),
        ("video", 51372, "RTP/AVP", ("31",)),
        ("video", 53000, "RTP/AVP", ("32",)),
    ]
    assert offer.media[1].codecs == {31: Codec("H261", 90000)}
    assert offer.connection_for(offer.media[2]) == Connection("host.anywhere.com")
    # RFC 8866 §5.3 forbids an empty s=; the RFC 3264 examples print one, and it goes back out as "s= ".
    assert b"\r\ns= \r\n" in offer.serialise()


def test_a_yealink_offer_gives_its_codecs_fmtp_and_ptime() -> None:
    offer = parse(YEALINK)
    (audio,) = offer.media
    assert audio.codecs == {0: PCMU, 8: PCMA, 18: G729, 9: G722, 101: TELEPHONE_EVENT}
    assert list(audio.codecs) == [0, 8, 18, 9, 101]
    assert audio.fmtp(18) == "annexb=no"
    assert audio.fmtp(101) == "0-15"
    assert audio.fmtp(0) is None
    assert audio.ptime == 20
    assert offer.direction_for(audio) is Direction.SENDRECV
    assert not offer.is_hold(audio)
    assert not audio.rtcp_mux
    assert audio.rtcp is None


def test_a_baresip_offer_gives_opus_channels_rtcp_mux_and_the_rtcp_port() -> None:
    offer = parse(BARESIP)
    (audio,) = offer.media
    assert audio.codec(96) == Codec("opus", 48000, 2)
    assert audio.bandwidths == (Bandwidth("AS", 80),)
    assert audio.rtcp_mux
    assert audio.rtcp == RtcpAttribute(10119, Connection("192.0.2.10"))
    assert audio.values("ssrc") == ["3410468302 cname:a1b2c3d4"]
    assert offer.attributes == (Attribute("tool", "baresip 3.10.1"),)


def test_lf_line_ends_trailing_whitespace_and_blank_lines_are_forgiven() -> None:
    sloppy = POLYCOM.replace("\n", " \t\n").replace("t=0 0", "t=0  0\n") + "\n\n"
    assert SessionDescription.parse(sloppy.encode()) == parse(POLYCOM)


def test_fields_out_of_order_and_unknown_letters_are_kept() -> None:
    described = parse(VIDEOPHONE)
    assert described.media[0].extra == (("y", "0102030405"),)
    reordered = parse(
        "v=0\nt=0 0\nx=opaque\nc=IN IP4 192.0.2.1\ns=-\no=- 1 1 IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n"
        "a=sendrecv\nc=IN IP4 192.0.2.2\n"
    )
    assert reordered.extra == (("x", "opaque"),)
    assert reordered.connection_for(reordered.media[0]) == Connection("192.0.2.2")
    assert b"x=opaque\r\n" in reordered.serialise()


def test_every_field_of_a_full_description() -> None:
    described = parse(VIDEOPHONE)
    assert described.origin == Origin("carol", 3724394400, 3724394401, "2001:db8::7", "IN", "IP6")
    assert (described.information, described.uri, described.key) == (
        "Weekly meeting",
        "https://example.com/meeting",
        "prompt",
    )
    assert described.emails == ("carol@example.com",)
    assert described.phones == ("+33 1 99 00 00 01",)
    assert described.bandwidths == (Bandwidth("CT", 1024),)
    assert described.timings == (Timing(3034423619, 3042462419, ("604800 3600 0 90000",)),)
    audio, video = described.media
    assert audio.information == "Voice"
    assert described.direction_for(audio) is Direction.RECVONLY  # the session's default
    assert described.direction_for(video) is Direction.SENDRECV  # its own overrides it
    assert described.connection_for(video) == Connection("2001:db8::8", "IN", "IP6")
    assert video.fmtp(99) == "profile-level-id=42e01f;packetization-mode=1"


def test_static_payload_types_need_no_rtpmap_and_an_rtpmap_overrides_them() -> None:
    (audio,) = audio_offer("0 8 18 9 13 4").media
    assert audio.codecs == {0: PCMU, 8: PCMA, 18: G729, 9: G722, 13: Codec("CN", 8000), 4: Codec("G723", 8000)}
    assert STATIC_PAYLOAD_TYPES[9] == Codec("G722", 8000)  # RFC 3551 §4.5.2: 8000 despite 16 kHz sampling
    (remapped,) = audio_offer("8", "rtpmap:8 PCMA/16000").media
    assert remapped.codec(8) == Codec("PCMA", 16000)
    (unmapped,) = audio_offer("96").media
    assert unmapped.codecs == {}


def test_attribute_values_that_cannot_be_read_count_as_absent() -> None:
    (audio,) = audio_offer(
        "96 0", "rtpmap:96 opus", "ptime:twenty", "rtcp:port", "fmtp:abc x", "rtpmap:0 PCMU/8000/x"
    ).media
    assert audio.codec(96) is None
    assert audio.codec(0) is None  # a malformed rtpmap is not replaced by the static meaning
    assert audio.ptime is None
    assert audio.rtcp is None
    assert audio_offer("0", "ptime:" + "9" * 5000).media[0].ptime is None
    assert audio_offer("0", "ptime:0").media[0].ptime is None


def test_attribute_flags_and_empty_values_differ() -> None:
    (audio,) = audio_offer("0", "rtcp-mux", "label:", "label:2").media
    assert audio.attributes == (Attribute("rtcp-mux"), Attribute("label", ""), Attribute("label", "2"))
    assert audio.values("label") == ["", "2"]
    assert "a=label:\r\n" in audio_offer("0", "label:").serialise().decode()


def test_non_rtp_formats_are_tokens() -> None:
    fax = parse("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=image 4000 udptl t38\n")
    (image,) = fax.media
    assert (image.formats, image.is_rtp, image.payload_types, image.codecs) == (("t38",), False, (), {})


def test_a_port_count_is_kept() -> None:
    text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=video 49170/2 RTP/AVP 31\n"
    (video,) = parse(text).media
    assert (video.port, video.port_count) == (49170, 2)
    assert b"m=video 49170/2 RTP/AVP 31\r\n" in parse(text).serialise()


def test_payload_types_are_normalised() -> None:
    assert audio_offer("008 0101").media[0].formats == ("8", "101")


# Hold (RFC 3264 §8.4 and the RFC 2543 c=0.0.0.0 form)


@pytest.mark.parametrize(
    ("session", "media", "held"),
    [
        ("", "a=sendonly\n", True),
        ("", "a=inactive\n", True),
        ("a=sendonly\n", "", True),
        ("a=inactive\n", "", True),
        ("a=sendonly\n", "a=sendrecv\n", False),
        ("", "a=recvonly\n", False),
        ("", "a=sendrecv\n", False),
        ("", "", False),
        ("", "c=IN IP4 0.0.0.0\n", True),
    ],
)
def test_hold_follows_the_direction_media_level_first(session: str, media: str, held: bool) -> None:
    described = parse(
        f"v=0\no=- 1 2 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n{session}m=audio 4000 RTP/AVP 0\n{media}"
    )
    assert described.is_hold(described.media[0]) is held


def test_the_old_hold_form_at_session_level() -> None:
    described = parse("v=0\no=- 1 2 IN IP4 192.0.2.1\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\n")
    assert described.is_hold(described.media[0])
    assert described.direction_for(described.media[0]) is Direction.SENDRECV


# Builders


def test_with_address_moves_the_stream_and_drops_the_old_rtcp_address() -> None:
    offer = parse(BARESIP)
    anchored = offer.with_media(0, offer.media[0].with_address("203.0.113.9", 30000))
    (audio,) = anchored.media
    assert (audio.port, audio.connections) == (30000, (Connection("203.0.113.9"),))
    assert anchored.connection_for(audio) == Connection("203.0.113.9")
    assert audio.rtcp is None
    assert audio.rtcp_mux
    assert audio.codecs == offer.media[0].codecs
    assert offer == parse(BARESIP)  # nothing was changed in place
    with pytest.raises(IndexError):
        offer.with_media(-1, offer.media[0])
    assert offer.media[0].with_address("2001:db8::9", 30000).connections == (Connection("2001:db8::9", "IN", "IP6"),)


def test_with_direction_overrides_the_session_level_one() -> None:
    offer = parse(POLYCOM)
    held = offer.with_media(0, offer.media[0].with_direction(Direction.SENDONLY))
    assert held.is_hold(held.media[0])
    resumed = held.with_media(0, held.media[0].with_direction(Direction.SENDRECV))
    assert resumed.media[0].values("sendonly") == []
    assert not resumed.is_hold(resumed.media[0])
    assert offer.attributes == (Attribute("sendrecv"),)


def test_locking_one_codec_down_rebuilds_the_rfc3264_10_2_updated_offer() -> None:
    first = parse(RFC3264_10_2_OFFER)
    locked = first.with_media(0, first.media[0].with_formats([4]).with_direction(Direction.SENDRECV))
    assert locked.with_next_version() == parse(RFC3264_10_2_REOFFER)


def test_with_formats_keeps_the_current_order_and_drops_other_rtpmap_and_fmtp() -> None:
    (audio,) = parse(YEALINK).media
    kept = audio.with_formats({101, 18, 8})
    assert kept.formats == ("8", "18", "101")
    assert kept.values("rtpmap") == ["8 PCMA/8000", "18 G729/8000", "101 telephone-event/8000"]
    assert kept.values("fmtp") == ["18 annexb=no", "101 0-15"]
    assert kept.ptime == 20
    with pytest.raises(SdpError, match="at least one format"):
        audio.with_formats({96})


def test_with_next_version_only_bumps_the_version() -> None:
    offer = parse(YEALINK)
    bumped = offer.with_next_version().with_next_version()
    assert bumped.origin == Origin("-", 20010, 20012, "192.0.2.64")
    assert bumped.media == offer.media


# Offer/answer (RFC 3264 §6)


def test_our_answer_to_a_yealink_offer() -> None:
    offer = parse(YEALINK)
    made = answer(offer, OURS, "203.0.113.5", [40000], session_id=4242, session_version=1)
    assert made.serialise() == crlf(
        "v=0\n"
        "o=- 4242 1 IN IP4 203.0.113.5\n"
        "s=-\n"
        "c=IN IP4 203.0.113.5\n"
        "t=0 0\n"
        "m=audio 40000 RTP/AVP 0 8 101\n"
        "a=rtpmap:0 PCMU/8000\n"
        "a=rtpmap:8 PCMA/8000\n"
        "a=rtpmap:101 telephone-event/8000\n"
        "a=fmtp:101 0-15\n"
        "a=ptime:20\n"
        "a=sendrecv\n"
    )
    assert check_answer(offer, made) is None


@pytest.mark.parametrize("text", SAMPLES)
def test_our_answers_pass_our_check(text: str) -> None:
    offer = parse(text)
    made = answer(offer, (*OURS, G722, Codec("MPV", 90000)), "203.0.113.5", [40000] * len(offer.media), 1)
    assert check_answer(offer, made) is None
    assert len(made.media) == len(offer.media)
    assert SessionDescription.parse(made.serialise()) == made


def test_rfc3264_10_1_answer_rejects_the_stream_without_a_common_codec() -> None:
    offer = parse(RFC3264_10_1_OFFER)
    made = answer(offer, [PCMU, Codec("MPV", 90000)], "host.example.com", [49920, 51500, 53000], 2890844730)
    assert [(m.media, m.port, m.formats) for m in made.media] == [
        ("audio", 49920, ("0",)),
        ("video", 0, ("31",)),
        ("video", 53000, ("32",)),
    ]
    assert made.media[1].attributes == ()
    expected = parse(RFC3264_10_1_ANSWER)
    assert [(m.port, m.formats) for m in made.media] == [(m.port, m.formats) for m in expected.media]
    assert check_answer(offer, parse(RFC3264_10_1_ANSWER)) is None


def test_rfc3264_10_1_reoffer_keeps_a_port_zero_stream_at_zero() -> None:
    offer = parse(RFC3264_10_1_REOFFER)
    assert check_answer(offer, parse(RFC3264_10_1_REANSWER)) is None
    supported = [PCMU, Codec("H261", 90000), Codec("MPV", 90000)]
    made = answer(offer, supported, "host.anywhere.com", [49170, 51372, 53000, 53122], 2890844526)
    assert [m.port for m in made.media] == [49170, 0, 53000, 0]


def test_rfc3264_10_2_one_of_n_codec_selection() -> None:
    g723 = Codec("G723", 8000)
    offer = parse(RFC3264_10_2_OFFER)
    made = answer(offer, [g723, PCMU], "host.example.com", [54344], 2890844730, 2890844731)
    assert made.media[0].formats == ("0", "4")  # the offerer's order, not ours
    assert made.direction_for(made.media[0]) is Direction.INACTIVE
    expected = parse(RFC3264_10_2_ANSWER)
    assert made.media[0].attributes == expected.media[0].attributes
    assert check_answer(offer, expected) is None
    locked = parse(RFC3264_10_2_REOFFER)
    relocked = answer(locked, [g723, PCMU], "host.example.com", [54344], 2890844730, 2890844732)
    assert relocked.media[0].attributes == parse(RFC3264_10_2_REANSWER).media[0].attributes
    assert check_answer(locked, parse(RFC3264_10_2_REANSWER)) is None


def test_no_common_codec_rejects_the_stream_with_port_zero() -> None:
    offer = audio_offer("18", "rtpmap:18 G729/8000", "ptime:20")
    made = answer(offer, OURS, "203.0.113.5", [40000], 1)
    assert made.media == (MediaDescription("audio", 0, "RTP/AVP", ("18",)),)
    assert check_answer(offer, made) is None
    assert b"m=audio 0 RTP/AVP 18\r\n" in made.serialise()


def test_two_streams_one_rejected() -> None:
    offer = parse(VIDEOPHONE)
    made = answer(offer, OURS, "203.0.113.5", [40000, 40002], 1)
    audio, video = made.media
    assert (audio.port, audio.formats, video.port, video.formats) == (40000, ("8", "97"), 0, ("99",))
    assert made.direction_for(audio) is Direction.SENDONLY  # the session offered recvonly
    assert made.timings == offer.timings  # §6: t= equals the offer's


def test_dynamic_payload_type_numbers_are_the_offers() -> None:
    offer = audio_offer("8 96", "rtpmap:96 telephone-event/8000", "fmtp:96 0-16")
    (audio,) = answer(offer, OURS, "203.0.113.5", [40000], 1).media
    assert audio.formats == ("8", "96")
    assert audio.codec(96) == TELEPHONE_EVENT
    assert audio.fmtp(96) == "0-16"


def test_telephone_event_is_kept_only_when_both_support_it() -> None:
    offer = audio_offer("0 101", "rtpmap:101 telephone-event/8000")
    assert answer(offer, [PCMU], "203.0.113.5", [40000], 1).media[0].formats == ("0",)
    assert answer(offer, [PCMU, TELEPHONE_EVENT], "203.0.113.5", [40000], 1).media[0].formats == ("0", "101")
    wideband_events = audio_offer("0 100", "rtpmap:100 telephone-event/16000")
    assert answer(wideband_events, OURS, "203.0.113.5", [40000], 1).media[0].formats == ("0",)


def test_telephone_event_and_comfort_noise_alone_do_not_carry_a_call() -> None:
    offer = audio_offer("96 101 13", "rtpmap:96 opus/48000/2", "rtpmap:101 telephone-event/8000")
    made = answer(offer, [*OURS, Codec("CN", 8000)], "203.0.113.5", [40000], 1)
    assert made.media[0].port == 0


@pytest.mark.parametrize(
    ("offered", "local", "expected"),
    [
        ("sendrecv", Direction.SENDRECV, Direction.SENDRECV),
        ("sendonly", Direction.SENDRECV, Direction.RECVONLY),
        ("recvonly", Direction.SENDRECV, Direction.SENDONLY),
        ("inactive", Direction.SENDRECV, Direction.INACTIVE),
        ("sendrecv", Direction.SENDONLY, Direction.SENDONLY),
        ("sendrecv", Direction.RECVONLY, Direction.RECVONLY),
        ("sendonly", Direction.SENDONLY, Direction.INACTIVE),
        ("recvonly", Direction.RECVONLY, Direction.INACTIVE),
        ("sendrecv", Direction.INACTIVE, Direction.INACTIVE),
    ],
)
def test_answer_direction_follows_the_rfc3264_6_1_table(offered: str, local: Direction, expected: Direction) -> None:
    offer = audio_offer("0", offered)
    made = answer(offer, OURS, "203.0.113.5", [40000], 1, direction=local)
    assert made.media[0].direction is expected
    assert check_answer(offer, made) is None


def test_ptime_is_echoed_only_when_offered() -> None:
    assert answer(audio_offer("0", "ptime:30"), OURS, "203.0.113.5", [40000], 1).media[0].ptime == 30
    assert answer(audio_offer("0"), OURS, "203.0.113.5", [40000], 1).media[0].values("ptime") == []


@pytest.mark.parametrize(
    ("offered", "enabled", "echoed"), [(True, True, True), (True, False, False), (False, True, False)]
)
def test_rtcp_mux_is_answered_only_when_offered_and_enabled(offered: bool, enabled: bool, echoed: bool) -> None:
    offer = audio_offer("0", *(["rtcp-mux"] if offered else []))
    made = answer(offer, OURS, "203.0.113.5", [40000], 1, rtcp_mux=enabled)
    assert made.media[0].rtcp_mux is echoed


def test_a_secure_rtp_offer_is_rejected_unless_the_transport_is_supported() -> None:
    offer = audio_offer("0", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abcd", proto="RTP/SAVP")
    assert answer(offer, OURS, "203.0.113.5", [40000], 1).media[0].port == 0
    accepted = answer(offer, OURS, "203.0.113.5", [40000], 1, protocols={"RTP/AVP", "RTP/SAVP"})
    assert (accepted.media[0].port, accepted.media[0].proto) == (40000, "RTP/SAVP")


def test_local_ports_choose_and_reject_streams() -> None:
    offer = parse(VIDEOPHONE)
    made = answer(offer, OURS, "203.0.113.5", [0, 40002], 1)
    assert made.media[0].port == 0
    with pytest.raises(ValueError, match="1 local ports for 2 offered streams"):
        answer(offer, OURS, "203.0.113.5", [40000], 1)


def test_an_ipv6_answer() -> None:
    made = answer(parse(YEALINK), OURS, "2001:db8::5", [40000], 9, username="tonalite")
    assert made.origin == Origin("tonalite", 9, 0, "2001:db8::5", "IN", "IP6")
    assert made.connection == Connection("2001:db8::5", "IN", "IP6")


def test_an_offer_without_streams_gets_an_answer_without_streams() -> None:
    offer = parse("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n")
    made = answer(offer, OURS, "203.0.113.5", [], 1)
    assert made.media == ()
    assert check_answer(offer, made) is None


# Checking an answer


def edited(text: str, old: str, new: str) -> SessionDescription:
    assert old in text
    return parse(text.replace(old, new))


YEALINK_ANSWER = answer(parse(YEALINK), OURS, "203.0.113.5", [40000], 1).serialise().decode().replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("offer", "answered", "reason"),
    [
        (YEALINK, YEALINK_ANSWER + "m=video 0 RTP/AVP 31\n", "the answer has 2 m= lines, the offer 1"),
        (YEALINK, YEALINK_ANSWER.replace("t=0 0", "t=1 0"), "t= differs"),
        (YEALINK, YEALINK_ANSWER.replace("m=audio", "m=video"), "m= line 1: media video answers offered audio"),
        (YEALINK, YEALINK_ANSWER.replace("RTP/AVP", "RTP/SAVP"), "m= line 1: transport RTP/SAVP"),
        (YEALINK.replace("sendrecv", "sendonly"), YEALINK_ANSWER, "m= line 1: sendrecv answers sendonly"),
        (YEALINK.replace("sendrecv", "recvonly"), YEALINK_ANSWER, "m= line 1: sendrecv answers recvonly"),
        (
            YEALINK.replace("sendrecv", "inactive"),
            YEALINK_ANSWER.replace("sendrecv", "recvonly"),
            "m= line 1: recvonly answers inactive",
        ),
        (
            YEALINK,
            "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 5000 RTP/AVP 3 96\n"
            "a=rtpmap:96 opus/48000/2\n",
            "m= line 1: no codec in common",
        ),
        (
            YEALINK.replace("11780", "0"),
            YEALINK_ANSWER,
            "m= line 1: accepts a stream offered with port 0",
        ),
    ],
)
def test_check_answer_says_why_an_answer_is_invalid(offer: str, answered: str, reason: str) -> None:
    found = check_answer(parse(offer), parse(answered))
    assert found is not None
    assert reason in found


def test_check_answer_wants_a_connection_address_for_an_accepted_stream() -> None:
    offer = parse(YEALINK)
    made = answer(offer, OURS, "203.0.113.5", [40000], 1)
    assert check_answer(offer, replace(made, connection=None)) == "m= line 1: no connection address"


def test_check_answer_accepts_renumbered_and_extra_codecs() -> None:
    offer = audio_offer("0 96", "rtpmap:96 telephone-event/8000")
    renumbered = audio_offer("0 101", "rtpmap:101 telephone-event/8000")
    extra = audio_offer("8 0")  # §6.1: the answerer may list formats it would receive that were not offered
    assert check_answer(offer, renumbered) is None
    assert check_answer(offer, extra) is None
    assert check_answer(audio_offer("t38", proto="udptl"), audio_offer("t38", proto="udptl")) is None
    assert check_answer(audio_offer("t38", proto="udptl"), audio_offer("t4", proto="udptl")) == (
        "m= line 1: no format in common with the offer"
    )


# Malformed and hostile input

HEAD = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "starts with v=0"),
        ("o=- 1 1 IN IP4 192.0.2.1\n", "starts with v=0"),
        ("v=1\n" + HEAD[4:], "starts with v=0"),
        ("V=0\n" + HEAD[4:], "line 1: expected <type>=<value>"),
        (" v=0\n" + HEAD[4:], "line 1: expected <type>=<value>"),
        (HEAD + "garbage\n", "line 6: expected <type>=<value>"),
        (HEAD.replace("o=- 1 1 IN IP4 192.0.2.1\n", ""), "missing o= line"),
        (HEAD.replace("s=-\n", ""), "missing s= line"),
        (HEAD.replace("t=0 0\n", ""), "missing t= line"),
        (HEAD + "o=- 2 2 IN IP4 192.0.2.2\n", "line 6: a second o= line"),
        (HEAD + "c=IN IP4 192.0.2.66\n", "line 6: a second c= line"),
        (HEAD + "v=0\n", "line 6: v= is out of place"),
        (HEAD + "m=audio 4000 RTP/AVP 0\nt=0 0\n", "line 7: t= is out of place"),
        (HEAD + "m=audio 4000 RTP/AVP 0\no=- 1 1 IN IP4 192.0.2.1\n", "line 7: o= is out of place"),
        (HEAD + "m=audio 4000 RTP/AVP 0\ni=a\ni=b\n", "line 8: a second i= line"),
        (HEAD.replace("t=0 0", "r=7d 1h 0 25h\nt=0 0"), "r= before any t="),
        (HEAD.replace("o=- 1 1 IN IP4", "o=- 1 IN IP4"), "line 2: o= needs"),
        (HEAD.replace("o=- 1 1", "o=- x 1"), "line 2: sess-id 'x' is not a number"),
        (HEAD.replace("o=- 1 1", "o=- " + "9" * 5000 + " 1"), "line 2: sess-id"),
        (HEAD.replace("c=IN IP4 192.0.2.1", "c=IN 192.0.2.1"), "line 4: c= needs"),
        (HEAD.replace("c=IN IP4 192.0.2.1", "c=IN IP4 192.0.2.1\tx"), "line 4: malformed address"),
        (HEAD.replace("t=0 0", "t=0"), "line 5: t= needs"),
        (HEAD + "b=AS\n", "line 6: b= needs"),
        (HEAD + "b=AS:lots\n", "line 6: bandwidth 'lots' is not a number"),
        (HEAD + "a=:value\n", "line 6: malformed attribute name"),
        (HEAD + "m=audio 4000 RTP/AVP\n", "line 6: m= needs"),
        (HEAD + "m=audio 70000 RTP/AVP 0\n", "line 6: port 70000 is above 65535"),
        (HEAD + "m=audio -1 RTP/AVP 0\n", "line 6: port '-1' is not a number"),
        (HEAD + "m=audio 4000/0 RTP/AVP 0\n", "line 6: a port count is at least 1"),
        (HEAD + "m=audio 4000 RTP/AVP PCMU\n", "line 6: payload type 'PCMU' is not a number"),
        (HEAD + "m=audio 4000 RTP/AVP 128\n", "line 6: payload type 128 is above 127"),
        (HEAD + "m=audio 4000 RTP/AVP 0 8 0\n", "line 6: a format is listed twice"),
        (HEAD + "m=audio 4000 RTP//AVP 0\n", "line 6: malformed transport"),
        (HEAD + "m=au(dio 4000 RTP/AVP 0\n", "line 6: malformed media type"),
        (HEAD + "a=sendonly\na=recvonly\n", "conflicting direction attributes: recvonly, sendonly"),
        (HEAD + "m=audio 4000 RTP/AVP 0\na=inactive\na=sendrecv\n", "conflicting direction attributes"),
        (HEAD.replace("c=IN IP4 192.0.2.1\n", "") + "m=audio 4000 RTP/AVP 0\n", "media section 1 has no c= line"),
        (HEAD + "s=\x00\n", "line 6: control character"),
        (HEAD + "s=a\rb\n", "line 6: control character"),
    ],
)
def test_malformed_descriptions_raise_sdp_error(text: str, message: str) -> None:
    with pytest.raises(SdpError, match=re.escape(message)):
        SessionDescription.parse(text.encode())


def test_a_rejected_stream_needs_no_connection_address() -> None:
    described = parse(HEAD.replace("c=IN IP4 192.0.2.1\n", "") + "m=audio 0 RTP/AVP 0\n")
    assert described.connection_for(described.media[0]) is None


def test_bytes_that_are_not_utf8_raise_sdp_error() -> None:
    with pytest.raises(SdpError, match="not UTF-8"):
        SessionDescription.parse(crlf(HEAD) + b"s=\xff\xfe\r\n")


def test_size_limits() -> None:
    with pytest.raises(SdpError, match="larger than"):
        SessionDescription.parse(crlf(HEAD + "a=x:" + "y" * MAX_SIZE + "\n"))
    with pytest.raises(SdpError, match="longer than"):
        SessionDescription.parse(crlf(HEAD + "a=rtcp-mux\n" * MAX_LINES))
    with pytest.raises(SdpError, match="more than 64 media sections"):
        SessionDescription.parse(crlf(HEAD + "m=audio 0 RTP/AVP 0\n" * (MAX_MEDIA + 1)))
    formats = " ".join(f"f{n}" for n in range(MAX_FORMATS + 1))
    with pytest.raises(SdpError, match="more than 128 formats"):
        SessionDescription.parse(crlf(HEAD + f"m=application 9 TCP/MSRP {formats}\n"))
    at_the_limits = parse(HEAD + "m=audio 0 RTP/AVP 0\n" * MAX_MEDIA)
    assert len(at_the_limits.media) == MAX_MEDIA
    every_payload_type = " ".join(str(pt) for pt in range(128))
    assert len(parse(HEAD + f"m=audio 4000 RTP/AVP {every_payload_type}\n").media[0].formats) == 128


ALPHABET = b"=:/ \t\r\n0123456789aocmtvsrbRTP-.\x00\xff"


def exercise(described: SessionDescription) -> None:
    """What the call core will do with an offer it received: none of it may raise."""
    assert SessionDescription.parse(described.serialise()) == described
    for media in described.media:
        described.is_hold(media)
        _ = (described.connection_for(media), media.codecs, media.ptime, media.rtcp, media.rtcp_mux)
    made = answer(described, OURS, "203.0.113.5", [40000] * len(described.media), 1)
    assert check_answer(described, made) is None
    check_answer(described, described)


def test_fuzzed_bytes_raise_only_sdp_error() -> None:
    rng = random.Random(8866)
    seeds = [crlf(text) for text in SAMPLES]
    parsed = 0
    for _ in range(4000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                data[position] = rng.choice(ALPHABET)
            elif action == 1:
                data.insert(position, rng.choice(ALPHABET))
            else:
                del data[position]
        try:
            described = SessionDescription.parse(bytes(data))
        except SdpError:
            continue
        parsed += 1
        exercise(described)
    assert 200 < parsed < 3800  # the mutations reach both outcomes


def test_shuffled_and_repeated_lines_raise_only_sdp_error() -> None:
    rng = random.Random(3264)
    for _ in range(2000):
        lines = rng.choice(SAMPLES).splitlines()
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(1, len(lines))
            if rng.random() < 0.5:
                lines.insert(rng.randrange(1, len(lines)), lines[index])
            else:
                lines[index], lines[-1] = lines[-1], lines[index]
        try:
            described = SessionDescription.parse("\n".join(lines).encode())
        except SdpError:
            continue
        exercise(described)

"""When a line-to-line call's media is anchored, and the SDP each phone is given then."""

from __future__ import annotations

import pytest

from tonalite.calls.media_anchor import (
    AnchorPolicy,
    PhoneAddresses,
    anchored,
    anchors,
    behind_nat,
    relayed_remote,
)
from tonalite.sip.sdp import Connection, SessionDescription, check_answer

OUR_HOST = "203.0.113.1"
RELAY_PORT = 30000
AUDIO = (
    "m=audio 4000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
)
VIDEO = "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
FAX = "m=image 4004 udptl t38\r\na=T38FaxVersion:0\r\n"


def sdp(*media: str, connection: str | None = "IN IP4 10.0.0.5", session: str = "") -> SessionDescription:
    head = "v=0\r\no=phone 7 3 IN IP4 10.0.0.5\r\ns=-\r\n"
    head += f"c={connection}\r\n" if connection else ""
    return SessionDescription.parse((head + "t=0 0\r\n" + session + "".join(media)).encode())


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        pytest.param(PhoneAddresses("10.0.0.5", "10.0.0.5", sdp(AUDIO)), False, id="on our network: no NAT"),
        pytest.param(PhoneAddresses("192.0.2.7", "192.0.2.7", sdp(AUDIO)), True, id="private SDP address"),
        pytest.param(PhoneAddresses("192.0.2.7", "10.0.0.5"), True, id="private Contact, no SDP yet"),
        pytest.param(PhoneAddresses("10.0.0.5", "10.0.0.5"), False, id="Contact alone, the same host"),
        pytest.param(PhoneAddresses("10.0.0.5"), False, id="nothing to compare"),
        pytest.param(
            PhoneAddresses("10.0.0.5", None, sdp(AUDIO + "c=IN IP4 192.168.1.9\r\n")),
            True,
            id="a media-level address differs",
        ),
        pytest.param(
            PhoneAddresses("192.0.2.7", None, sdp(AUDIO + "c=IN IP4 192.0.2.7\r\n")),
            False,
            id="a session address every stream overrides is not looked at",
        ),
        pytest.param(
            PhoneAddresses("10.0.0.5", None, sdp(AUDIO, "m=audio 0 RTP/AVP 0\r\nc=IN IP4 192.168.1.9\r\n")),
            False,
            id="a refused stream's address is not looked at",
        ),
        pytest.param(
            PhoneAddresses("192.0.2.7", "192.0.2.7", sdp(AUDIO, connection="IN IP4 0.0.0.0")),
            False,
            id="an RFC 2543 hold names no host",
        ),
        pytest.param(
            PhoneAddresses("2001:db8::1", "2001:DB8:0::1", sdp(AUDIO, connection="IN IP6 2001:db8:0:0::1")),
            False,
            id="IPv6 addresses compare by value",
        ),
        pytest.param(
            PhoneAddresses("::ffff:10.0.0.5", "10.0.0.5", sdp(AUDIO)), False, id="an IPv4-mapped source is IPv4"
        ),
        pytest.param(PhoneAddresses("10.0.0.5", "[2001:db8::1]"), True, id="another family differs"),
        pytest.param(PhoneAddresses("10.0.0.5", "phone.example.com"), True, id="a host name is not looked up"),
    ],
)
def test_behind_nat(phone: PhoneAddresses, expected: bool) -> None:
    assert behind_nat(phone) is expected


DIRECT = PhoneAddresses("10.0.0.5", "10.0.0.5", sdp(AUDIO))
NATTED = PhoneAddresses("192.0.2.7", "10.0.0.5", sdp(AUDIO))


@pytest.mark.parametrize(
    ("policy", "caller", "callee", "expected"),
    [
        (AnchorPolicy.AUTO, DIRECT, DIRECT, False),
        (AnchorPolicy.AUTO, NATTED, DIRECT, True),
        (AnchorPolicy.AUTO, DIRECT, NATTED, True),
        (AnchorPolicy.ALWAYS, DIRECT, DIRECT, True),
        (AnchorPolicy.NEVER, NATTED, NATTED, False),
    ],
)
def test_anchors(policy: AnchorPolicy, caller: PhoneAddresses, callee: PhoneAddresses, expected: bool) -> None:
    assert anchors(policy, caller, callee) is expected


def test_the_policy_reads_as_the_setting_is_written() -> None:
    assert [AnchorPolicy(value) for value in ("auto", "always", "never")] == list(AnchorPolicy)


def test_the_relayed_stream_comes_to_us_with_everything_else_kept() -> None:
    offer = sdp(AUDIO + "a=sendonly\r\na=rtcp:4001 IN IP4 10.0.0.5\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n")
    rewritten = anchored(offer, OUR_HOST, RELAY_PORT)
    (audio,) = rewritten.media
    original = offer.media[0]
    assert (audio.port, audio.connections) == (RELAY_PORT, (Connection(OUR_HOST),))
    assert rewritten.connection == Connection(OUR_HOST)
    assert audio.formats == original.formats and audio.codecs == original.codecs
    assert audio.fmtp(101) == "0-16" and audio.ptime == 20
    assert rewritten.direction_for(audio).value == "sendonly"
    assert audio.rtcp is None  # RTCP comes to the relay's port + 1
    assert audio.values("crypto") == original.values("crypto")  # SRTP passes the relay whole
    assert rewritten.origin == offer.origin
    assert SessionDescription.parse(rewritten.serialise()) == rewritten
    assert relayed_remote(offer) == ("10.0.0.5", 4000)
    assert relayed_remote(rewritten) == (OUR_HOST, RELAY_PORT)


@pytest.mark.parametrize(
    ("streams", "ports"),
    [
        pytest.param((AUDIO, VIDEO), (RELAY_PORT, 0), id="video refused"),
        pytest.param((VIDEO, AUDIO, AUDIO), (0, RELAY_PORT, 0), id="the first audio, wherever it is"),
        pytest.param(("m=audio 0 RTP/AVP 0\r\n", AUDIO), (0, RELAY_PORT), id="a refused audio stays refused"),
        pytest.param((AUDIO, FAX), (RELAY_PORT, 0), id="T.38 refused"),
        pytest.param((FAX,), (0,), id="nothing to relay"),
        pytest.param(("m=audio 4000 RTP/SAVP 0\r\n",), (RELAY_PORT,), id="SRTP with SDES keys"),
    ],
)
def test_one_stream_is_relayed_and_the_others_refused(streams: tuple[str, ...], ports: tuple[int, ...]) -> None:
    rewritten = anchored(sdp(*streams), OUR_HOST, RELAY_PORT)
    assert tuple(media.port for media in rewritten.media) == ports
    assert [media.media for media in rewritten.media] == [media.media for media in sdp(*streams).media]
    assert all(media.connections == () and media.attributes == () for media in rewritten.media if media.port == 0)
    SessionDescription.parse(rewritten.serialise())


def test_media_level_addresses_and_no_session_address() -> None:
    offer = sdp(AUDIO + "c=IN IP4 10.0.0.6\r\n", VIDEO + "c=IN IP4 10.0.0.6\r\n", connection=None)
    rewritten = anchored(offer, OUR_HOST, RELAY_PORT)
    assert rewritten.connection is None
    assert rewritten.media[0].connections == (Connection(OUR_HOST),)
    assert relayed_remote(offer) == ("10.0.0.6", 4000)
    assert relayed_remote(sdp(VIDEO)) is None


def test_an_rfc_2543_hold_stays_a_hold() -> None:
    offer = sdp(AUDIO, connection="IN IP4 0.0.0.0")
    rewritten = anchored(offer, OUR_HOST, RELAY_PORT)
    (audio,) = rewritten.media
    assert rewritten.is_hold(audio)
    assert (audio.port, rewritten.connection_for(audio)) == (RELAY_PORT, Connection("0.0.0.0"))
    assert relayed_remote(offer) == ("0.0.0.0", 4000)  # the relay does not send there


def test_ice_is_dropped_at_both_levels() -> None:
    offer = sdp(
        AUDIO + "a=candidate:1 1 UDP 2130706431 10.0.0.5 4000 typ host\r\na=end-of-candidates\r\na=rtcp-mux\r\n",
        session="a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\na=ice-lite\r\na=tool:phone\r\n",
    )
    rewritten = anchored(offer, OUR_HOST, RELAY_PORT)
    assert [attribute.name for attribute in rewritten.attributes] == ["tool"]
    assert not {"candidate", "end-of-candidates"} & {attribute.name for attribute in rewritten.media[0].attributes}
    assert rewritten.media[0].rtcp_mux  # kept: the relay's RTP ports carry RTCP too


def test_an_anchored_answer_answers_the_callers_offer() -> None:
    """Caller's offer -> anchored to the callee -> callee's answer -> anchored back: a valid answer."""
    offer = sdp(AUDIO, VIDEO)
    to_callee = anchored(offer, OUR_HOST, RELAY_PORT)
    callee_answer = SessionDescription.parse(
        b"v=0\r\no=callee 9 1 IN IP4 10.1.0.8\r\ns=-\r\nc=IN IP4 10.1.0.8\r\nt=0 0\r\n"
        b"m=audio 5000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\nm=video 0 RTP/AVP 96\r\n"
    )
    assert check_answer(to_callee, callee_answer) is None
    to_caller = anchored(callee_answer, OUR_HOST, RELAY_PORT + 2)
    assert check_answer(offer, to_caller) is None
    assert relayed_remote(callee_answer) == ("10.1.0.8", 5000)
    assert relayed_remote(to_caller) == (OUR_HOST, RELAY_PORT + 2)

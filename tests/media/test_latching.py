"""Symmetric RTP latching: where a remote party's packets go, and who may move that."""

from __future__ import annotations

from tonalite.media.latching import Address, RtpLatch

SDP_ADDRESS: Address = ("192.0.2.10", 40000)
NAT_ADDRESS: Address = ("198.51.100.7", 61000)
STRANGER: Address = ("203.0.113.66", 5004)
SSRC = 0x5EED0001


def latched() -> RtpLatch:
    latch = RtpLatch(SDP_ADDRESS)
    assert latch.admits(NAT_ADDRESS, SSRC)
    latch.latch(NAT_ADDRESS, SSRC)
    return latch


def test_the_sdp_address_until_the_first_packet_then_its_source() -> None:
    latch = RtpLatch(SDP_ADDRESS)
    assert latch.remote == SDP_ADDRESS
    assert latched().remote == NAT_ADDRESS
    assert RtpLatch(None).remote is None


def test_once_latched_a_stranger_is_refused_and_the_same_source_is_followed() -> None:
    latch = latched()
    assert not latch.admits(STRANGER, SSRC + 1)
    assert latch.admits(("198.51.100.7", 61002), SSRC)  # the NAT binding changed
    assert latch.admits(NAT_ADDRESS, SSRC + 1)  # the phone restarted its stream


def test_the_same_address_again_keeps_the_latch() -> None:
    latch = latched()
    latch.rename(SDP_ADDRESS)  # a hold or a session refresh from a phone behind NAT
    assert latch.remote == NAT_ADDRESS
    assert not latch.admits(STRANGER, SSRC + 1)


def test_a_new_address_starts_over() -> None:
    latch = latched()
    moved: Address = ("192.0.2.11", 42000)
    latch.rename(moved)
    assert latch.remote == moved
    assert latch.admits(STRANGER, SSRC + 1)


def test_no_address_keeps_a_latch_and_names_nothing_without_one() -> None:
    latch = latched()
    latch.rename(None)  # an RFC 2543 hold
    assert latch.remote == NAT_ADDRESS
    latch.rename(SDP_ADDRESS)
    assert latch.remote == NAT_ADDRESS
    unlatched = RtpLatch(SDP_ADDRESS)
    unlatched.rename(None)
    assert unlatched.remote is None
    unlatched.rename(SDP_ADDRESS)
    assert unlatched.remote == SDP_ADDRESS

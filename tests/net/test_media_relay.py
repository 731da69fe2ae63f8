"""The RTP relay of an anchored call on real sockets on 127.0.0.1 and the real loop, between two fake phones of
tests/peers/rtp_phone.py (and a stranger)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.peers.rtp_phone import HOST, WAIT, Phone, free_range, tone
from tonalite.media.jitter import FRAME_SAMPLES
from tonalite.media.latching import Address
from tonalite.media.rtp import ReceiverReport, RtpPacket, build_rtcp
from tonalite.net.media_relay import MediaRelay, MediaRelays, RelayStatistics, Side, SideStatistics
from tonalite.net.rtp_ports import NoRtpPort, RtpPortPool

CALLER_SSRC = 0xCA11E401
CALLEE_SSRC = 0xCA11EE02
STRANGER_SSRC = 0x0BAD0BAD


@dataclass
class Call:
    """A relay between a caller's and a callee's phone; the node's pool holds exactly the relay's two pairs."""

    pool: RtpPortPool
    phone_pool: RtpPortPool
    relays: MediaRelays
    relay: MediaRelay
    caller: Phone
    callee: Phone

    def to_relay(self, side: Side, rtcp: bool = False) -> Address:
        """Where `side`'s phone sends, the relay's port of its SDP."""
        return HOST, self.relay.port_for(side) + rtcp

    async def phone(self, ssrc: int) -> Phone:
        return await Phone.open(self.phone_pool, ssrc)


@pytest.fixture
async def call() -> AsyncIterator[Call]:
    low, high = free_range(6)
    pool = RtpPortPool(low, low + 4)
    phone_pool = RtpPortPool(low + 4, high)
    relays = MediaRelays(pool)
    caller = await Phone.open(phone_pool, CALLER_SSRC)
    callee = await Phone.open(phone_pool, CALLEE_SSRC)
    relay = await relays.open(HOST, HOST)
    try:
        yield Call(pool, phone_pool, relays, relay, caller, callee)
    finally:
        relay.close()
        caller.close()
        callee.close()


def audio(phone: Phone, frames: int = 3) -> list[bytes]:
    return phone.audio(tone(frames * FRAME_SAMPLES))


async def relayed(sender: Phone, datagrams: list[bytes], to: Address, receiver: Phone, via: Address) -> None:
    """`datagrams` go from `sender` to the relay at `to`, and reach `receiver` whole, in order, from `via`."""
    sender.send(datagrams, to)
    for datagram in datagrams:
        _, data, source = await receiver.next_datagram(rtcp=to[1] % 2 == 1)
        assert (data, source) == (datagram, via)


async def test_two_phones_talk_through_the_relay_both_ways(call: Call) -> None:
    relay = call.relay
    assert relay.port_for(Side.CALLER) % 2 == 0 and relay.port_for(Side.CALLEE) % 2 == 0
    relay.set_remote(Side.CALLER, call.caller.address)
    relay.set_remote(Side.CALLEE, call.callee.address)
    caller_side, callee_side = call.to_relay(Side.CALLER), call.to_relay(Side.CALLEE)

    await relayed(call.caller, audio(call.caller), caller_side, call.callee, via=callee_side)
    await relayed(call.callee, audio(call.callee, 4), callee_side, call.caller, via=caller_side)

    assert relay.statistics == RelayStatistics(SideStatistics(3, 4, 0), SideStatistics(4, 3, 0))
    assert str(relay.statistics) == "caller 3 in, 4 out, 0 dropped; callee 4 in, 3 out, 0 dropped"


async def test_a_phone_behind_nat_is_reached_where_its_packets_come_from(call: Call) -> None:
    private = await call.phone(CALLER_SSRC)  # the address the caller's SDP names, behind its NAT
    try:
        call.relay.set_remote(Side.CALLER, private.address)
        call.relay.set_remote(Side.CALLEE, call.callee.address)
        caller_side, callee_side = call.to_relay(Side.CALLER), call.to_relay(Side.CALLEE)

        await relayed(call.callee, audio(call.callee, 1), callee_side, private, via=caller_side)
        await relayed(call.caller, audio(call.caller, 1), caller_side, call.callee, via=callee_side)
        await relayed(call.callee, audio(call.callee), callee_side, call.caller, via=caller_side)

        call.relay.set_remote(Side.CALLER, private.address)  # a re-INVITE naming it again keeps the latch
        await relayed(call.callee, audio(call.callee), callee_side, call.caller, via=caller_side)
    finally:
        private.close()


async def test_a_stranger_after_latching_is_ignored_but_the_phone_may_move(call: Call) -> None:
    relay = call.relay
    relay.set_remote(Side.CALLER, call.caller.address)
    relay.set_remote(Side.CALLEE, call.callee.address)
    caller_side, callee_side = call.to_relay(Side.CALLER), call.to_relay(Side.CALLEE)
    await relayed(call.caller, audio(call.caller, 1), caller_side, call.callee, via=callee_side)

    stranger = await call.phone(STRANGER_SSRC)
    rebound = await call.phone(CALLER_SSRC)  # the caller's phone, after its NAT gave it another port
    try:
        await stranger.send(audio(stranger), caller_side).finished()
        # Had the stranger's packets been forwarded, the callee would get them before the caller's next one.
        await relayed(call.caller, audio(call.caller, 1), caller_side, call.callee, via=callee_side)
        await relayed(call.callee, audio(call.callee, 1), callee_side, call.caller, via=caller_side)
        assert relay.statistics.caller == SideStatistics(received=5, sent=1, dropped=3)

        await relayed(rebound, audio(rebound, 1), caller_side, call.callee, via=callee_side)
        await relayed(call.callee, audio(call.callee, 1), callee_side, rebound, via=caller_side)
    finally:
        stranger.close()
        rebound.close()


async def test_rtcp_is_relayed_between_the_odd_ports(call: Call) -> None:
    call.relay.set_remote(Side.CALLER, call.caller.address)
    call.relay.set_remote(Side.CALLEE, call.callee.address)
    caller_side, callee_side = call.to_relay(Side.CALLER, rtcp=True), call.to_relay(Side.CALLEE, rtcp=True)

    for sender, receiver, to, via in (
        (call.caller, call.callee, caller_side, callee_side),
        (call.callee, call.caller, callee_side, caller_side),
    ):
        report = build_rtcp(ReceiverReport(sender.ssrc), "phone@test")
        sender.send_rtcp(report, to)
        _, data, source = await receiver.next_datagram(rtcp=True)
        assert (data, source) == (report, via)
    assert call.relay.statistics == RelayStatistics(SideStatistics(1, 1, 0), SideStatistics(1, 1, 0))


async def test_with_rtcp_mux_rtcp_shares_the_rtp_ports(call: Call) -> None:
    call.relay.set_remote(Side.CALLER, call.caller.address)
    call.relay.set_remote(Side.CALLEE, call.callee.address)
    caller_side, callee_side = call.to_relay(Side.CALLER), call.to_relay(Side.CALLEE)
    report = build_rtcp(ReceiverReport(CALLER_SSRC), "phone@test")
    await relayed(call.caller, [*audio(call.caller, 1), report], caller_side, call.callee, via=callee_side)
    assert call.relay.statistics.caller == SideStatistics(received=2, sent=0, dropped=0)


async def test_datagrams_that_are_not_rtp_are_dropped_and_counted(call: Call) -> None:
    call.relay.set_remote(Side.CALLER, call.caller.address)
    call.relay.set_remote(Side.CALLEE, call.callee.address)
    caller_side, callee_side = call.to_relay(Side.CALLER), call.to_relay(Side.CALLEE)
    rtp = RtpPacket(0, 1, 160, CALLER_SSRC, bytes(160)).serialise()
    junk = [
        b"\x80" * 11,  # short of an RTP header
        b"\x40" + rtp[1:],  # version 1
        bytes.fromhex("0001 0000 2112a442") + bytes(12),  # a STUN binding request
        bytes.fromhex("16fefd") + bytes(20),  # DTLS
    ]
    await call.caller.send(junk, caller_side).finished()
    call.caller.send_rtcp(rtp, call.to_relay(Side.CALLER, rtcp=True))  # RTP is not RTCP
    await relayed(call.caller, audio(call.caller, 1), caller_side, call.callee, via=callee_side)
    assert call.relay.statistics.caller == SideStatistics(received=6, sent=0, dropped=5)


async def test_nothing_goes_to_an_address_the_relay_does_not_send_to(call: Call) -> None:
    """Until the phone's first packet: a host name is not looked up, 0.0.0.0 is a hold."""
    caller_side = call.to_relay(Side.CALLER)
    for remote in (("callee.example.com", call.callee.address[1]), ("0.0.0.0", call.callee.address[1]), None):
        call.relay.set_remote(Side.CALLEE, remote)
        await call.caller.send(audio(call.caller, 1), caller_side).finished()
    # The callee's first packet latches it: the caller's next one reaches it.
    await call.callee.send(audio(call.callee, 1), call.to_relay(Side.CALLEE)).finished()
    await relayed(call.caller, audio(call.caller, 1), caller_side, call.callee, via=call.to_relay(Side.CALLEE))
    assert call.relay.statistics.caller == SideStatistics(received=4, sent=1, dropped=3)


async def test_close_returns_the_ports_to_the_pool(call: Call) -> None:
    ports = {call.relay.port_for(side) for side in Side}
    with pytest.raises(NoRtpPort):
        await call.relays.open(HOST, HOST)
    assert call.pool.pairs_in_use == 2
    call.relay.close()
    call.relay.close()
    assert call.relay.closed and call.pool.pairs_in_use == 0
    await _next_loop_turn()
    call.relay = await call.relays.open(HOST, HOST)
    assert {call.relay.port_for(side) for side in Side} == ports


async def test_a_relay_that_cannot_have_both_pairs_takes_none(call: Call) -> None:
    call.relay.close()
    await _next_loop_turn()
    squatter = await Phone.open(call.pool)  # one of the two pairs
    try:
        with pytest.raises(NoRtpPort):
            await call.relays.open(HOST, HOST)
        assert call.pool.pairs_in_use == 1
    finally:
        squatter.close()


async def _next_loop_turn() -> None:
    """A released transport closes its socket on the loop's next turn (net/rtp_ports.py); a callback queued
    after the release runs after that."""
    turned = asyncio.Event()
    asyncio.get_running_loop().call_soon(turned.set)
    await asyncio.wait_for(turned.wait(), WAIT)

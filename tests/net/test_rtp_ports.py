"""The RTP port pool on real sockets on 127.0.0.1: even/odd pairs, least recently used first, ports held by
another program skipped, exhaustion reported."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.peers.rtp_phone import free_range
from tonalite.net.rtp_ports import NoRtpPort, RtpPortPool, RtpSockets

HOST = "127.0.0.1"
PAIRS = 4


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.datagrams.put_nowait(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


@pytest.fixture
def port_range() -> Iterator[tuple[int, int]]:
    yield free_range(PAIRS)


async def _open(pool: RtpPortPool) -> RtpSockets[_Inbox, _Inbox]:
    return await pool.open(HOST, _Inbox, _Inbox)


async def test_a_pair_is_an_even_rtp_port_and_the_next_rtcp_port_both_receiving(
    port_range: tuple[int, int],
) -> None:
    pool = RtpPortPool(*port_range)
    sockets = await _open(pool)
    try:
        assert sockets.port % 2 == 0
        assert sockets.rtp.get_extra_info("sockname")[1] == sockets.port
        assert sockets.rtcp.get_extra_info("sockname")[1] == sockets.port + 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.sendto(b"rtp", (HOST, sockets.port))
            phone.sendto(b"rtcp", (HOST, sockets.port + 1))
            assert await asyncio.wait_for(sockets.rtp_protocol.datagrams.get(), 5) == b"rtp"
            assert await asyncio.wait_for(sockets.rtcp_protocol.datagrams.get(), 5) == b"rtcp"
    finally:
        pool.release(sockets)


async def test_released_pairs_come_back_last(port_range: tuple[int, int]) -> None:
    pool = RtpPortPool(*port_range)
    first = await _open(pool)
    pool.release(first)
    opened = [await _open(pool) for _ in range(PAIRS)]
    try:
        assert [sockets.port for sockets in opened][-1] == first.port
        assert len({sockets.port for sockets in opened}) == PAIRS
    finally:
        for sockets in opened:
            pool.release(sockets)


async def test_exhaustion_raises_and_a_release_makes_room(port_range: tuple[int, int]) -> None:
    pool = RtpPortPool(*port_range)
    opened = [await _open(pool) for _ in range(PAIRS)]
    try:
        assert pool.free_pairs == 0
        with pytest.raises(NoRtpPort):
            await _open(pool)
        released = opened.pop()
        pool.release(released)
        # A transport closes on the loop's next turn: until then its port cannot be bound again.
        await asyncio.wait_for(released.rtcp_protocol.closed.wait(), 5)
        opened.append(await _open(pool))
        assert pool.pairs_in_use == PAIRS
    finally:
        for sockets in opened:
            pool.release(sockets)


async def test_a_port_held_by_another_program_is_skipped(port_range: tuple[int, int]) -> None:
    low, high = port_range
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind((HOST, low + 1))  # the RTCP port of the first pair
        pool = RtpPortPool(low, high)
        sockets = await _open(pool)
        try:
            assert sockets.port == low + 2
        finally:
            pool.release(sockets)
    assert pool.free_pairs == PAIRS


async def test_releasing_twice_returns_the_pair_once(port_range: tuple[int, int]) -> None:
    pool = RtpPortPool(*port_range)
    sockets = await _open(pool)
    pool.release(sockets)
    pool.release(sockets)
    assert pool.free_pairs == PAIRS
    assert pool.pairs_in_use == 0


def test_a_range_without_a_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="no even port"):
        RtpPortPool(20001, 20001)
    assert RtpPortPool(20001, 20003).free_pairs == 1

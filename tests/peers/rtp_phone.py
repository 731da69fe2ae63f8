"""A fake phone for media tests: a UDP port pair on 127.0.0.1 that sends RTP paced by its own media tick and
decodes what it receives, and a rig with the node's side (a port pool and a pacer) facing it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tonalite.clock import SystemClock
from tonalite.media.dtmf import DEFAULT_DURATION_MS, dtmf_packets
from tonalite.media.g711 import PCMU, SAMPLE_RATE
from tonalite.media.jitter import FRAME_SAMPLES
from tonalite.media.rtp import (
    RtpPacket,
    parse_rtp,
)
from tonalite.media.stream import Address, MediaStream, Samples
from tonalite.net.media_session import MediaSession
from tonalite.net.pacer import Pacer
from tonalite.net.rtp_ports import RtpPortPool, RtpSockets

HOST = "127.0.0.1"
WAIT = 3.0
"""The longest any one await of these tests may take."""
EVENT_PT = 101
PHONE_SSRC = 0x5EED_0001
SILENCE = PCMU.silence(FRAME_SAMPLES)


def free_range(pairs: int) -> tuple[int, int]:
    """An even first port whose next 2*pairs ports were free a moment ago, and the last of them."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            base = probe.getsockname()[1] & ~1
        if base + 2 * pairs > 65535:
            continue
        held = []
        try:
            for port in range(base, base + 2 * pairs):
                held_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(held_socket)
                held_socket.bind((HOST, port))
        except OSError:
            continue
        finally:
            for held_socket in held:
                held_socket.close()
        return base, base + 2 * pairs - 1
    raise RuntimeError("no free port range")


def tone(samples: int, frequency: float = 1000.0, amplitude: int = 8000) -> Samples:
    t = np.arange(samples) / SAMPLE_RATE
    return np.round(amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def dominant_frequency(samples: npt.NDArray[np.int16]) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


class _Port(asyncio.DatagramProtocol):
    """One of the phone's ports: what it receives, with the loop time it arrived and where it came from."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[float, bytes, Address]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.received.put_nowait((asyncio.get_running_loop().time(), data, (str(addr[0]), int(addr[1]))))


class CountingStream(MediaStream):
    """A PCMU MediaStream (with telephone-event) that can be waited on until it has received a number of packets."""

    def __init__(self, remote: Address) -> None:
        super().__init__(PCMU, EVENT_PT, remote)
        self._arrived = asyncio.Event()

    def receive(self, data: bytes, source: Address, now: float) -> None:
        super().receive(data, source, now)
        self._arrived.set()

    async def received(self, count: int) -> None:
        async with asyncio.timeout(WAIT):
            while self.statistics.packets_received < count:
                self._arrived.clear()
                await self._arrived.wait()


class Transmission:
    """Datagrams the phone sends one per tick of its own pacer, from its RTP port."""

    def __init__(self, pacer: Pacer, transport: asyncio.DatagramTransport, datagrams: list[bytes], to: Address) -> None:
        self._pacer = pacer
        self._transport = transport
        self._datagrams = datagrams
        self._to = to
        self.sent = 0
        self._progress = asyncio.Event()
        self._tick_id = pacer.add(self._tick)

    def _tick(self) -> None:
        if self.sent < len(self._datagrams):
            self._transport.sendto(self._datagrams[self.sent], self._to)
            self.sent += 1
            self._progress.set()
        if self.sent == len(self._datagrams):
            self.stop()

    def stop(self) -> None:
        self._pacer.remove(self._tick_id)

    async def reached(self, count: int) -> None:
        """Until `count` datagrams have gone (at most WAIT seconds)."""
        async with asyncio.timeout(WAIT):
            while self.sent < count:
                self._progress.clear()
                await self._progress.wait()

    async def finished(self) -> None:
        await self.reached(len(self._datagrams))


class Phone:
    """A fake phone on a port pair of its own: one SSRC, numbered audio and key presses, paced sending."""

    def __init__(self, sockets: RtpSockets[_Port, _Port], pool: RtpPortPool, ssrc: int = PHONE_SSRC) -> None:
        self._sockets = sockets
        self._pool = pool
        self.ssrc = ssrc
        self._pacer = Pacer(asyncio.get_running_loop())
        self._transmissions: list[Transmission] = []
        self._sequence = 1000
        self._timestamp = 50_000

    @classmethod
    async def open(cls, pool: RtpPortPool, ssrc: int = PHONE_SSRC) -> Phone:
        return cls(await pool.open(HOST, _Port, _Port), pool, ssrc)

    @property
    def address(self) -> Address:
        return HOST, self._sockets.port

    def _packet(self, payload_type: int, payload: bytes, marker: bool) -> bytes:
        packet = RtpPacket(payload_type, self._sequence, self._timestamp, self.ssrc, payload, marker).serialise()
        self._sequence = (self._sequence + 1) % 0x10000
        return packet

    def audio(self, samples: Samples) -> list[bytes]:
        """The packets of `samples` (whole 20 ms frames), in PCMU."""
        datagrams = []
        for start in range(0, len(samples), FRAME_SAMPLES):
            datagrams.append(
                self._packet(PCMU.payload_type, PCMU.encode(samples[start : start + FRAME_SAMPLES]), False)
            )
            self._timestamp += FRAME_SAMPLES
        return datagrams

    def press(self, digits: str, duration_ms: int = DEFAULT_DURATION_MS) -> list[bytes]:
        """The RFC 4733 packets of key presses, one after the other."""
        datagrams = []
        for digit in digits:
            packets = dtmf_packets(digit, duration_ms)
            datagrams += [self._packet(EVENT_PT, packet.payload, packet.marker) for packet in packets]
            self._timestamp += len(packets) * FRAME_SAMPLES
        return datagrams

    def send(self, datagrams: list[bytes], to: Address) -> Transmission:
        transmission = Transmission(self._pacer, self._sockets.rtp, datagrams, to)
        self._transmissions.append(transmission)
        return transmission

    def send_rtcp(self, datagram: bytes, to: Address) -> None:
        self._sockets.rtcp.sendto(datagram, to)

    async def next_datagram(self, *, rtcp: bool = False) -> tuple[float, bytes, Address]:
        """The next datagram that reached the RTP (or RTCP) port, when, and where it came from."""
        port = self._sockets.rtcp_protocol if rtcp else self._sockets.rtp_protocol
        return await asyncio.wait_for(port.received.get(), WAIT)

    async def next_rtp(self) -> tuple[float, RtpPacket]:
        """The next packet that reached the RTP port, and when."""
        arrival, data, _ = await self.next_datagram()
        return arrival, parse_rtp(data)

    async def next_rtcp(self) -> bytes:
        _, data, _ = await self.next_datagram(rtcp=True)
        return data

    def close(self) -> None:
        for transmission in self._transmissions:
            transmission.stop()
        self._pool.release(self._sockets)


@dataclass
class Rig:
    """The node's side (a port pool and a pacer) and a phone, on one free range of 127.0.0.1."""

    pool: RtpPortPool
    pacer: Pacer
    phone_pool: RtpPortPool
    phone: Phone
    sessions: list[MediaSession] = field(default_factory=list)

    async def open_session(
        self, stream: MediaStream | None = None, *, remote: Address | None = None, rtcp_interval: int = 250
    ) -> MediaSession:
        """A session for `stream` (by default PCMU with telephone-event, its SDP naming the phone)."""
        if stream is None:
            stream = MediaStream(PCMU, EVENT_PT, remote or self.phone.address)
        session = await MediaSession.open(
            self.pool, HOST, self.pacer, SystemClock(), stream, rtcp_interval=rtcp_interval
        )
        self.sessions.append(session)
        return session


@contextlib.asynccontextmanager
async def loopback_rig() -> AsyncIterator[Rig]:
    low, high = free_range(4)
    node_pool = RtpPortPool(low, low + 4)
    phone_pool = RtpPortPool(low + 4, high)
    rig = Rig(node_pool, Pacer(asyncio.get_running_loop()), phone_pool, await Phone.open(phone_pool))
    try:
        yield rig
    finally:
        for session in rig.sessions:
            session.close()
        rig.phone.close()

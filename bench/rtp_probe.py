"""A load generator's side of one call's RTP: packets received with the kernel's receive time, audio sent on a
drift-free 20 ms schedule, and what the received stream says about the sender's timing.

Receive times come from the kernel (SO_TIMESTAMPNS, read with recvmsg), so the generator's own scheduling
delays (its loop busy with other calls) do not count as the server's lateness. Only PCMU packets of the first
SSRC heard are kept: the server's RTCP reports go to our port + 1, which may be another call's RTP port.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tonalite.media.g711 import PCMU, SAMPLE_RATE
from tonalite.media.jitter import FRAME_DURATION, FRAME_SAMPLES
from tonalite.net.pacer import Pacer

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python names it only from 3.14 on
_HEADER = struct.Struct("!BBHII")
_TIMESPEC = struct.Struct("@qq")
_ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESPEC.size)
_MAX_DATAGRAM = 2048
HOST = "127.0.0.1"

Address = tuple[str, int]
Arrival = tuple[int, int, int]
"""(kernel receive time in ns since the epoch, sequence number, RTP timestamp) of one packet."""
PayloadWatch = Callable[[bytes, int], None]


def _kernel_time_ns(ancillary: list[tuple[int, int, bytes]]) -> int:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack(data[: _TIMESPEC.size])
            return int(seconds) * 1_000_000_000 + int(nanoseconds)
    return time.time_ns()


class RtpEndpoint:
    """One call's RTP socket on 127.0.0.1, read by the loop as packets come. `watch`, when set, sees each kept
    packet's payload and receive time (to spot a prompt in the stream)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((HOST, 0))
        self._socket.setblocking(False)
        self._socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.arrivals: list[Arrival] = []
        self.watch: PayloadWatch | None = None
        self.remote: Address | None = None
        self._heard_ssrc: int | None = None
        self._ssrc = random.getrandbits(32)
        self._sequence = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)
        loop.add_reader(self._socket.fileno(), self._drain)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def close(self) -> None:
        self._loop.remove_reader(self._socket.fileno())
        self._socket.close()

    def send_audio(self, payload: bytes) -> None:
        """One PCMU packet to `remote`, the next sequence number, the timestamp 20 ms on."""
        assert self.remote is not None
        header = _HEADER.pack(0x80, PCMU.payload_type, self._sequence, self._timestamp, self._ssrc)
        self._socket.sendto(header + payload, self.remote)
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFF_FFFF

    def _drain(self) -> None:
        while True:
            try:
                data, ancillary, _, _ = self._socket.recvmsg(_MAX_DATAGRAM, _ANCILLARY_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            self._received(data, _kernel_time_ns(ancillary))

    def _received(self, data: bytes, arrival_ns: int) -> None:
        if len(data) < _HEADER.size:
            return
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != 2 or second & 0x7F != PCMU.payload_type or self._heard_ssrc not in (None, ssrc):
            return
        self._heard_ssrc = ssrc
        self.arrivals.append((arrival_ns, sequence, timestamp))
        if self.watch is not None:
            self.watch(data[_HEADER.size + 4 * (first & 0x0F) :], arrival_ns)


class Transmission:
    """`payloads` sent from `endpoint`, one per tick of `pacer` (drift-free: deadlines from its start, late ticks
    caught up). `offsets` keeps each send's loop time less its place in the schedule, to tell the generator's
    own lateness apart from the server's."""

    def __init__(self, pacer: Pacer, endpoint: RtpEndpoint, payloads: list[bytes]) -> None:
        self._pacer = pacer
        self._endpoint = endpoint
        self._payloads = payloads
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        self.offsets: list[float] = []
        self.first_sent: float | None = None  # wall-clock time
        self.last_sent: float | None = None
        self._tick_id = pacer.add(self._tick)

    def _tick(self) -> None:
        sent = len(self.offsets)
        self._endpoint.send_audio(self._payloads[sent])
        self.offsets.append(self._loop.time() - sent * FRAME_DURATION)
        if sent == 0:
            self.first_sent = time.time()
        if sent + 1 == len(self._payloads):
            self.last_sent = time.time()
            self.stop()

    def stop(self) -> None:
        self._pacer.remove(self._tick_id)
        self._done.set()

    async def finished(self) -> None:
        await self._done.wait()

    def late(self, threshold: float) -> int:
        """Packets sent more than `threshold` seconds behind the schedule of the earliest one."""
        if not self.offsets:
            return 0
        earliest = min(self.offsets)
        return sum(offset - earliest > threshold for offset in self.offsets)


@dataclass(frozen=True, slots=True)
class StreamFigures:
    """A received stream against its sender's RTP clock. `arrivals` are wall-clock seconds; `lateness` is each
    packet's delay behind the schedule its RTP timestamps set, anchored on the stream's earliest packet;
    `behind_at_end` the median lateness of its last second (a sender that lost time and never made it up);
    `jitter` is the mean over the stream of RFC 3550's running interarrival jitter estimate (s)."""

    arrivals: npt.NDArray[np.float64]
    lateness: npt.NDArray[np.float64]
    behind_at_end: float
    lost: int
    jitter: float


def _unwrapped(counter: npt.NDArray[np.int64], modulus: int) -> npt.NDArray[np.int64]:
    steps = (np.diff(counter) + modulus // 2) % modulus - modulus // 2
    return np.concatenate(([0], np.cumsum(steps)))


def _mean_jitter(transit_changes: npt.NDArray[np.float64]) -> float:
    """RFC 3550 §6.4.1 / A.8: J += (|D| - J) / 16 for each packet; the mean of J over the stream."""
    estimate, total = 0.0, 0.0
    for change in np.abs(transit_changes).tolist():
        estimate += (change - estimate) / 16
        total += estimate
    return total / max(len(transit_changes), 1)


def stream_figures(arrivals: list[Arrival]) -> StreamFigures:
    """Lateness, loss and jitter of one stream from what its endpoint received (at least one packet)."""
    table = np.array(arrivals, dtype=np.int64)
    received = table[:, 0].astype(np.float64) / 1e9
    sequence = _unwrapped(table[:, 1], 1 << 16)
    timestamp = _unwrapped(table[:, 2], 1 << 32)
    transit = received - timestamp / SAMPLE_RATE  # the arrival less the send time the RTP clock says
    expected = int(sequence.max() - sequence.min()) + 1
    lost = expected - len(np.unique(sequence))
    lateness = transit - transit.min()
    behind_at_end = float(np.median(lateness[-int(1 / FRAME_DURATION) :]))
    return StreamFigures(received, lateness, behind_at_end, lost, _mean_jitter(np.diff(transit)))

"""A leg's media session on real sockets on 127.0.0.1 and the real loop, facing the fake phone of
tests/peers/rtp_phone.py."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest

from tests.peers.rtp_phone import (
    HOST,
    PHONE_SSRC,
    SILENCE,
    WAIT,
    CountingStream,
    Phone,
    Rig,
    loopback_rig,
    tone,
)
from tonalite.media.dtmf import DEFAULT_DURATION_MS, DtmfEvent
from tonalite.media.g711 import PCMU
from tonalite.media.jitter import FRAME_SAMPLES
from tonalite.media.rtp import (
    ReceiverReport,
    SenderReport,
    build_rtcp,
    ntp_timestamp,
    parse_rtcp,
)
from tonalite.media.stream import Samples


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with loopback_rig() as opened:
        yield opened


class _Listener:
    def __init__(self, heard: list[Samples] | None = None) -> None:
        self.presses: asyncio.Queue[DtmfEvent] = asyncio.Queue()
        self.closings = 0
        self._heard = heard
        self.heard_at_closing: int | None = None

    def key_pressed(self, event: DtmfEvent) -> None:
        self.presses.put_nowait(event)

    def media_closed(self) -> None:
        self.closings += 1
        if self._heard is not None:
            self.heard_at_closing = len(self._heard)


class _Ticks:
    """An audio source that counts the ticks it is asked for a frame, and sets `reached` at `target`."""

    def __init__(self, target: int, fail_at: int | None = None) -> None:
        self.count = 0
        self.target = target
        self.fail_at = fail_at
        self.reached = asyncio.Event()

    def __call__(self) -> Samples | None:
        self.count += 1
        if self.count >= self.target:
            self.reached.set()
        if self.count == self.fail_at:
            raise RuntimeError("a broken audio source")
        return None


async def test_the_phone_gets_a_packet_every_20_ms(rig: Rig) -> None:
    session = await rig.open_session()
    assert session.port % 2 == 0
    packets = [await rig.phone.next_rtp() for _ in range(26)]
    arrivals = [arrival for arrival, _ in packets]
    assert (arrivals[-1] - arrivals[0]) / 25 == pytest.approx(0.020, abs=0.003)
    first = packets[0][1]
    for n, (_, packet) in enumerate(packets):
        assert packet.sequence_number == (first.sequence_number + n) % 0x10000
        assert packet.timestamp == (first.timestamp + n * FRAME_SAMPLES) % (1 << 32)
        assert (packet.payload_type, packet.payload) == (PCMU.payload_type, SILENCE)


async def test_packets_go_where_the_phones_come_from_not_where_its_sdp_says(rig: Rig) -> None:
    sdp_address = await Phone.open(rig.phone_pool)  # the address the phone's SDP named, before its NAT
    try:
        session = await rig.open_session(remote=sdp_address.address)
        await sdp_address.next_rtp()
        rig.phone.send(rig.phone.audio(np.zeros(FRAME_SAMPLES, np.int16)), (HOST, session.port))
        await rig.phone.next_rtp()
        assert session.stream.remote == rig.phone.address
    finally:
        sdp_address.close()


async def test_audio_and_key_presses_from_the_phone_reach_the_stream_and_the_listener(rig: Rig) -> None:
    session = await rig.open_session()
    listener = _Listener()
    session.listener = listener
    heard: list[Samples] = []
    session.stream.listen(lambda frame: None if frame is None else heard.append(frame))
    sent = tone(20 * FRAME_SAMPLES)
    rig.phone.send(rig.phone.audio(sent) + rig.phone.press("5"), (HOST, session.port))

    assert await asyncio.wait_for(listener.presses.get(), WAIT) == DtmfEvent("5", DEFAULT_DURATION_MS)
    np.testing.assert_array_equal(np.concatenate(heard), PCMU.decode(PCMU.encode(sent)))


async def test_after_a_stall_the_next_packet_is_stamped_with_the_time_that_passed(rig: Rig) -> None:
    await rig.open_session()
    _, before = await rig.phone.next_rtp()
    skipped = rig.pacer.skipped
    time.sleep(0.2)  # noqa: ASYNC251 - the stall under test: ten periods, more than the pacer catches up
    packets = [before] + [(await rig.phone.next_rtp())[1] for _ in range(5)]
    skipped = rig.pacer.skipped - skipped
    assert skipped >= 5
    steps = [(b.timestamp - a.timestamp) % (1 << 32) for a, b in itertools.pairwise(packets)]
    assert [b.sequence_number - a.sequence_number for a, b in itertools.pairwise(packets)] == [1] * 5
    assert sum(steps) == (len(steps) + skipped) * FRAME_SAMPLES  # every skipped period is in the timestamps
    assert max(steps) >= (1 + skipped) * FRAME_SAMPLES  # at once, not spread as a faster clock


async def test_close_hands_what_the_jitter_buffer_holds_to_the_sink_before_the_listener_hears(rig: Rig) -> None:
    stream = CountingStream(rig.phone.address)
    session = await rig.open_session(stream)
    heard: list[Samples] = []
    listener = _Listener(heard)
    session.listener = listener
    stream.listen(lambda frame: None if frame is None else heard.append(frame))
    sent = tone(10 * FRAME_SAMPLES)
    rig.phone.send(rig.phone.audio(sent), (HOST, session.port))
    await stream.received(10)

    session.close()
    assert listener.heard_at_closing == 10
    np.testing.assert_array_equal(np.concatenate(heard), PCMU.decode(PCMU.encode(sent)))


async def test_rtcp_reports_reach_the_rtp_port_plus_one_and_answer_the_phones_sender_report(rig: Rig) -> None:
    session = await rig.open_session(rtcp_interval=5)
    phone = rig.phone
    await phone.send(phone.audio(tone(5 * FRAME_SAMPLES)), (HOST, session.port)).finished()
    phone_ntp = ntp_timestamp(1_700_000_000.25)
    phone.send_rtcp(
        build_rtcp(SenderReport(PHONE_SSRC, phone_ntp, 50_800, 5, 800), "phone@test"), (HOST, session.port + 1)
    )
    _, ours = await phone.next_rtp()

    async with asyncio.timeout(WAIT):
        while True:
            data = await phone.next_rtcp()
            assert b"tonalite@127.0.0.1" in data  # the SDES CNAME item
            report = parse_rtcp(data)[0]
            assert isinstance(report, SenderReport | ReceiverReport)
            assert report.ssrc == ours.ssrc
            if report.reports and report.reports[0].last_sr:
                break
    assert isinstance(report, SenderReport)
    block = report.reports[0]
    assert block.ssrc == PHONE_SSRC
    assert block.last_sr == phone_ntp >> 16 & 0xFFFF_FFFF
    assert block.extended_highest_sequence == 1004


async def test_a_failing_tick_is_logged_and_the_session_ticks_on(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    session = await rig.open_session()
    source = _Ticks(target=8, fail_at=3)
    session.stream.play(source)
    await asyncio.wait_for(source.reached.wait(), WAIT)
    assert "a media stream failed on its tick" in caplog.text
    assert session.stream.statistics.packets_sent == source.count - 1


async def test_close_returns_the_ports_and_stops_the_tick_once(rig: Rig) -> None:
    session = await rig.open_session()
    listener = _Listener()
    session.listener = listener
    ticks = _Ticks(target=2)
    session.stream.play(ticks)
    await asyncio.wait_for(ticks.reached.wait(), WAIT)
    assert rig.pool.pairs_in_use == 1

    session.close()
    session.close()
    assert session.closed
    assert (rig.pool.pairs_in_use, rig.pool.free_pairs) == (0, 2)
    assert rig.pacer.streams == 0
    assert listener.closings == 1

    ticked = ticks.count
    other = await rig.open_session()  # the pacer ticks again, for this one only
    other_ticks = _Ticks(target=3)
    other.stream.play(other_ticks)
    await asyncio.wait_for(other_ticks.reached.wait(), WAIT)
    assert ticks.count == ticked

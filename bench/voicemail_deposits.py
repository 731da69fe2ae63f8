"""Simultaneous voicemail deposits one `tonalite serve` process sustains, with the audio it receives intact and
the packets it sends on time (target: 300 at once on one core, under 1 % of packets more than 10 ms late).

The server runs pinned to one CPU, this load generator (asyncio on uvloop) on the other. One caller line,
registered, calls an unregistered line CALLS times, the calls started evenly over RAMP seconds: INVITE, 407,
INVITE with MD5 digest credentials, 200, ACK. Each call hears the greeting; when the beep shows up in the
server's stream (its frames are matched by content) the call waits for the beep to end and the recording to
start, sends SECONDS of a tone of its own frequency (20 ms PCMU packets on a drift-free schedule), and hangs up.

Printed: deposits attempted and completed and how many were up (and recording) at once; for the stream the
server sent each call (greeting, beep, then silence while recording), the share of packets more than 10 ms
behind the schedule their RTP timestamps set (kernel receive times, each stream anchored on its earliest
packet), RFC 3550 interarrival jitter and loss; whether each stored message is intact (listed by the API with a
duration within 0.2 s of the tone sent, its WAV's FFT peak at its own call's frequency, no silent 20 ms frame);
the server's CPU time per deposit (utime+stime from /proc) and its busiest second, and whether the target was
met. Exits 1 when a call failed (the figures then describe fewer deposits than asked for).

    python -m bench.voicemail_deposits [--calls 300] [--seconds 12] [--ramp 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import uvloop
from tests.peers.tonalite_server import TonaliteServer

from bench.rtp_probe import RtpEndpoint, StreamFigures, Transmission, stream_figures
from bench.sip_uac import Dialog, SipFailure, SipUac
from bench.support import (
    ACCOUNT_LOGIN,
    ACCOUNT_PASSWORD,
    cpu_seconds,
    interpreter,
    pin_apart,
    run_queue_seconds,
    server_with_lines,
)
from tonalite.media.g711 import PCMU, SAMPLE_RATE
from tonalite.media.jitter import FRAME_DURATION, FRAME_SAMPLES
from tonalite.media.wav import read_wav
from tonalite.net.pacer import Pacer
from tonalite.prompts import BEEP
from tonalite.services.lines import LineCredentials
from tonalite.services.numbering import format_national
from tonalite.sip.sdp import SdpError, SessionDescription

LATE_S = 0.010
TARGET_LATE_SHARE = 0.01
DURATION_TOLERANCE_S = 0.2
RECORDING_MARGIN_S = 0.5
"""Wait after the beep's last frame before speaking: the server starts recording once it has stored the new
message's row and opened its file (two worker-thread hops); audio sent earlier is not recorded."""
GREETING_LIMIT_S = 30.0
CALL_SETUP_LIMIT_S = 40.0
MESSAGES_LIMIT_S = 20.0
GENERATOR_CATCH_UP_TICKS = 50
"""The generator's pacer catches up to 1 s of missed ticks instead of skipping them (the server would record
the gap as lost audio)."""
LOWEST_TONE_HZ = 300.0
TONE_BAND_HZ = 3000.0
TONE_AMPLITUDE = 8000
SILENT_RMS = 0.01 * 32768
CPU_SAMPLE_S = 1.0


def _frames(samples: np.ndarray) -> list[bytes]:
    """PCMU payloads of whole 20 ms frames, the last padded with silence as the server's playback does."""
    padded = np.pad(samples, (0, -len(samples) % FRAME_SAMPLES))
    encoded = PCMU.encode(padded)
    return [encoded[start : start + FRAME_SAMPLES] for start in range(0, len(encoded), FRAME_SAMPLES)]


BEEP_SAMPLES = read_wav(BEEP)
BEEP_S = len(BEEP_SAMPLES) / SAMPLE_RATE
BEEP_FRAMES = frozenset(_frames(BEEP_SAMPLES))


def tone_spacing(calls: int) -> float:
    """Hz between two calls' tones: each call's own frequency identifies its message."""
    return min(10.0, TONE_BAND_HZ / max(calls, 1))


def tone_frames(frequency: float, seconds: float) -> list[bytes]:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return _frames(np.round(TONE_AMPLITUDE * np.sin(2 * np.pi * frequency * t)).astype(np.int16))


def offer(rtp_port: int) -> bytes:
    lines = [
        "v=0", "o=bench 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
        f"m=audio {rtp_port} RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv",
    ]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n").encode()


def answered_address(answer: bytes) -> tuple[str, int]:
    """Where the server's SDP answer says to send our audio."""
    description = SessionDescription.parse(answer)
    media = next((m for m in description.media if m.media == "audio" and m.port), None)
    connection = None if media is None else description.connection_for(media)
    if media is None or connection is None:
        raise SdpError("no audio stream in the answer")
    return connection.address, media.port


@dataclass
class Deposit:
    """One call: its tone, what happened (wall-clock times), what the server sent it and when it sent ours."""

    frequency: float
    tone: list[bytes]
    stage: str = "calling"
    failure: str | None = None
    established: float | None = None
    ended: float | None = None
    received: list[tuple[int, int, int]] = field(default_factory=list)
    transmission: Transmission | None = None

    @property
    def completed(self) -> bool:
        return self.failure is None and self.ended is not None


def beep_heard(endpoint: RtpEndpoint) -> asyncio.Future[int]:
    """The kernel receive time (ns) of the first beep frame the server sends this call."""
    found: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def watch(payload: bytes, arrival_ns: int) -> None:
        if payload in BEEP_FRAMES and not found.done():
            found.set_result(arrival_ns)
            endpoint.watch = None

    endpoint.watch = watch
    return found


async def leave_message(uac: SipUac, pacer: Pacer, endpoint: RtpEndpoint, dialled: str, deposit: Deposit) -> None:
    beep = beep_heard(endpoint)
    dialog = await uac.invite(dialled, offer(endpoint.port))
    deposit.established, deposit.stage = time.time(), "waiting for the beep"
    try:
        endpoint.remote = answered_address(dialog.answer)
        async with asyncio.timeout(GREETING_LIMIT_S):
            beep_ns = await beep
        await asyncio.sleep(beep_ns / 1e9 + BEEP_S + RECORDING_MARGIN_S - time.time())
        deposit.stage = "speaking"
        deposit.transmission = Transmission(pacer, endpoint, deposit.tone)
        async with asyncio.timeout(len(deposit.tone) * FRAME_DURATION + GREETING_LIMIT_S):
            await deposit.transmission.finished()
        if dialog.hung_up_by_server.is_set():
            raise SipFailure("the server hung up before the caller")
    except (SdpError, TimeoutError, SipFailure):
        await hang_up_quietly(uac, dialog)
        raise
    deposit.stage = "hanging up"
    await uac.bye(dialog)
    deposit.ended = time.time()


async def hang_up_quietly(uac: SipUac, dialog: Dialog) -> None:
    if not dialog.hung_up_by_server.is_set():
        with suppress(SipFailure):
            await uac.bye(dialog)


async def place_deposit(uac: SipUac, pacer: Pacer, dialled: str, deposit: Deposit, at: float) -> None:
    """At loop time `at`, call and leave the message; a failure is kept in `deposit`, not raised."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(at - loop.time())
    endpoint = RtpEndpoint(loop)
    try:
        async with asyncio.timeout(CALL_SETUP_LIMIT_S + GREETING_LIMIT_S + len(deposit.tone) * FRAME_DURATION):
            await leave_message(uac, pacer, endpoint, dialled, deposit)
    except (SdpError, TimeoutError, SipFailure) as error:
        deposit.failure = f"{deposit.stage}: {error or type(error).__name__}"
    finally:
        endpoint.close()
        deposit.received = endpoint.arrivals


async def busiest_second(pid: int, stop: asyncio.Event) -> float:
    """The highest share of one CPU the process used over a CPU_SAMPLE_S window, until `stop`."""
    busiest, before = 0.0, cpu_seconds(pid)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), CPU_SAMPLE_S)
        except TimeoutError:
            now = cpu_seconds(pid)
            busiest, before = max(busiest, (now - before) / CPU_SAMPLE_S), now
    return busiest


@dataclass(frozen=True, slots=True)
class Run:
    """The calls, and what the server and the load generator spent on them (CPU time, run-queue wait)."""

    deposits: list[Deposit]
    elapsed_s: float
    server_cpu_s: float
    server_waited_s: float
    busiest_second: float
    generator_cpu_s: float
    generator_waited_s: float
    skipped_ticks: int
    retransmissions: int


async def run_deposits(
    server: TonaliteServer, caller: LineCredentials, callee: LineCredentials, deposits: list[Deposit], ramp: float
) -> Run:
    """Register the caller, place every call to the callee on the ramp, wait for them all; the server's CPU time
    for the lot includes storing the messages (they are listed by the API before it is read)."""
    assert server.process is not None
    dialled = format_national(callee.number).replace(" ", "")
    pid = server.process.pid
    loop = asyncio.get_running_loop()
    uac = await SipUac.open(("127.0.0.1", server.sip_port), caller)
    await uac.register()
    pacer = Pacer(loop, max_catch_up=GENERATOR_CATCH_UP_TICKS)
    stop = asyncio.Event()
    with collector_paused():
        sampler = asyncio.create_task(busiest_second(pid, stop))
        cpu_before, waited_before = cpu_seconds(pid), run_queue_seconds(pid)
        generator_waited_before = run_queue_seconds(os.getpid())
        generator_before, started = _own_cpu_seconds(), loop.time()
        step = ramp / max(len(deposits) - 1, 1)
        placed = (place_deposit(uac, pacer, dialled, d, started + i * step) for i, d in enumerate(deposits))
        await asyncio.gather(*placed)
        await messages_stored(server, callee.number, sum(d.completed for d in deposits))
        stop.set()
    run = Run(
        deposits,
        elapsed_s=loop.time() - started,
        server_cpu_s=cpu_seconds(pid) - cpu_before,
        server_waited_s=run_queue_seconds(pid) - waited_before,
        busiest_second=await sampler,
        generator_cpu_s=_own_cpu_seconds() - generator_before,
        generator_waited_s=run_queue_seconds(os.getpid()) - generator_waited_before,
        skipped_ticks=pacer.skipped,
        retransmissions=uac.retransmissions,
    )
    uac.close()
    return run


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during the calls: with the platform imported (for its SIP and media code), a
    full collection stops the loop for ~170 ms, and the tone of every call with it (the server would record
    the gap). The calls make little garbage that reference counting does not free."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The messages, through the API and on disk.


def _api(server: TonaliteServer) -> httpx.Client:
    login = {"login": ACCOUNT_LOGIN, "password": ACCOUNT_PASSWORD}
    token = httpx.post(f"{server.http_url}/v1/auth/token", json=login, timeout=10).json()["token"]
    return httpx.Client(base_url=server.http_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def listed_messages(server: TonaliteServer, number: str) -> list[dict[str, object]]:
    """The line's messages as the API lists them (id, duration, ...)."""
    with _api(server) as api:
        group = api.get("/v1/billing-groups").raise_for_status().json()["items"][0]["id"]
        path = f"/v1/billing-groups/{group}/lines/{number.lstrip('+')}/voicemail/messages"
        items: list[dict[str, object]] = api.get(path).raise_for_status().json()["items"]
        return items


async def messages_stored(server: TonaliteServer, number: str, expected: int) -> None:
    """Until the API lists `expected` messages (stored once the call has ended), MESSAGES_LIMIT_S at most."""
    deadline = time.monotonic() + MESSAGES_LIMIT_S
    while time.monotonic() < deadline:
        if len(await asyncio.to_thread(listed_messages, server, number)) >= expected:
            return
        await asyncio.sleep(0.5)


@dataclass(frozen=True, slots=True)
class MessageChecks:
    listed: int
    durations: list[float]
    right_duration: int
    own_tone: int
    with_silence: int
    silent_frames: int
    intact: int


def dominant_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def silent_frames(samples: np.ndarray) -> int:
    """20 ms frames whose RMS is under 1 % of full scale: audio the server lost (it records gaps as silence)."""
    whole = samples[: len(samples) // FRAME_SAMPLES * FRAME_SAMPLES].astype(np.float64)
    rms = np.sqrt(np.mean(whole.reshape(-1, FRAME_SAMPLES) ** 2, axis=1))
    return int(np.count_nonzero(rms < SILENT_RMS))


def check_messages(server: TonaliteServer, number: str, deposits: list[Deposit], seconds: float) -> MessageChecks:
    """Each listed message against the call whose tone it holds (each call claimed once)."""
    spacing = tone_spacing(len(deposits))
    claimed: set[int] = set()
    right_duration = own_tone = with_silence = total_silent = intact = 0
    items = listed_messages(server, number)
    durations = [float(str(item["duration"])) for item in items]
    for item, duration in zip(items, durations, strict=True):
        (path,) = Path(server.data_dir, "voicemail").glob(f"*/{item['id']}.wav")
        samples = read_wav(path)
        index = round((dominant_frequency(samples) - LOWEST_TONE_HZ) / spacing)
        ours = 0 <= index < len(deposits) and deposits[index].completed and index not in claimed
        claimed.add(index)
        duration_ok = abs(duration - seconds) <= DURATION_TOLERANCE_S
        silent = silent_frames(samples)
        right_duration += duration_ok
        own_tone += ours
        with_silence += silent > 0
        total_silent += silent
        intact += duration_ok and ours and silent == 0
    return MessageChecks(len(items), durations, right_duration, own_tone, with_silence, total_silent, intact)


# Figures.


def most_at_once(intervals: Iterable[tuple[float, float]]) -> int:
    events = sorted((t, step) for start, end in intervals for t, step in ((start, 1), (end, -1)))
    at_once = most = 0
    for _, step in events:
        at_once += step
        most = max(most, at_once)
    return most


def _up(deposit: Deposit) -> tuple[float, float]:
    assert deposit.established is not None and deposit.ended is not None
    return deposit.established, deposit.ended


def _recording(deposit: Deposit) -> tuple[float, float]:
    transmission = deposit.transmission
    assert transmission is not None and transmission.first_sent is not None and transmission.last_sent is not None
    return transmission.first_sent, transmission.last_sent


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """The server's streams together; `window` is when every completed call was up."""

    packets: int
    late: int
    packets_in_window: int
    late_in_window: int
    p99_ms: float
    worst_ms: float
    lost: int
    behind_ms: list[float]
    jitter_ms: list[float]


def summarise(streams: list[StreamFigures], window: tuple[float, float]) -> StreamSummary:
    if not streams:
        return StreamSummary(0, 0, 0, 0, 0.0, 0.0, 0, [0.0], [0.0])
    lateness = np.concatenate([s.lateness for s in streams])
    arrivals = np.concatenate([s.arrivals for s in streams])
    in_window = lateness[(arrivals >= window[0]) & (arrivals <= window[1])]
    return StreamSummary(
        packets=len(lateness),
        late=int(np.count_nonzero(lateness > LATE_S)),
        packets_in_window=len(in_window),
        late_in_window=int(np.count_nonzero(in_window > LATE_S)),
        p99_ms=float(np.percentile(lateness, 99)) * 1000,
        worst_ms=float(lateness.max()) * 1000,
        lost=sum(s.lost for s in streams),
        behind_ms=[s.behind_at_end * 1000 for s in streams],
        jitter_ms=[s.jitter * 1000 for s in streams],
    )


def share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f} %" if whole else "n/a"


def report(run: Run, checks: MessageChecks, args: argparse.Namespace, pinning: str) -> None:
    """Print the figures, and whether they meet the target."""
    deposits = run.deposits
    done = [d for d in deposits if d.completed]
    up = [_up(d) for d in done]
    window = (max(s for s, _ in up), min(e for _, e in up)) if up else (0.0, 0.0)
    streams = summarise([stream_figures(d.received) for d in deposits if d.received], window)
    print(f"voicemail deposits: {args.calls} calls over {args.ramp:g} s, {args.seconds:g} s of tone each; {pinning}")
    print(f"  server          {interpreter()}")
    print(f"  deposits        {len(deposits)} attempted, {len(done)} completed, {len(deposits) - len(done)} failed")
    for failure in sorted({d.failure for d in deposits if d.failure})[:5]:
        print(f"                  failure: {failure}")
    recording = most_at_once(_recording(d) for d in done)
    print(f"  at once         {most_at_once(up)} calls up (all {len(done)} for {max(window[1] - window[0], 0):.1f} s), "
          f"{recording} recording")  # fmt: skip
    _print_streams(streams)
    _print_messages(checks)
    generator_on_time = _print_cpu(run, len(done))
    met = (
        len(done) == len(deposits)
        and checks.intact == len(deposits)
        and streams.late < TARGET_LATE_SHARE * streams.packets
    )
    print(f"  verdict         {'met' if met else 'NOT met'}: {len(deposits)} deposits, every message intact, "
          f"under {TARGET_LATE_SHARE:.0%} of packets more than {LATE_S * 1000:.0f} ms late")  # fmt: skip
    if not generator_on_time:
        print("                  (the load generator was late itself: what the server received was late too)")


def _print_streams(streams: StreamSummary) -> None:
    print(f"  server stream   {streams.packets} packets, {share(streams.late, streams.packets)} more than "
          f"{LATE_S * 1000:.0f} ms late ({share(streams.late_in_window, streams.packets_in_window)} while all calls "
          f"were up), 99th percentile {streams.p99_ms:.1f} ms, worst {streams.worst_ms:.1f} ms, "
          f"{streams.lost} lost")  # fmt: skip
    print(f"                  each stream's last second {np.mean(streams.behind_ms):.1f} ms behind its RTP clock on "
          f"average, {max(streams.behind_ms):.1f} ms at most (time the sender lost and never made up)")  # fmt: skip
    print(f"  jitter          RFC 3550, mean of each stream's estimate: {np.mean(streams.jitter_ms):.2f} ms mean, "
          f"{max(streams.jitter_ms):.2f} ms max over streams")  # fmt: skip


def _print_messages(checks: MessageChecks) -> None:
    print(f"  messages        {checks.listed} listed, {checks.intact} intact: {checks.right_duration} within "
          f"±{DURATION_TOLERANCE_S} s, {checks.own_tone} with their call's tone, {checks.with_silence} with silent "
          f"frames ({checks.silent_frames} in all)")  # fmt: skip
    if checks.durations:
        print(f"                  durations {min(checks.durations):.2f} to {max(checks.durations):.2f} s, "
              f"{np.mean(checks.durations):.2f} s on average")  # fmt: skip


def _print_cpu(run: Run, completed: int) -> bool:
    """The server's CPU and the load generator's health; whether the generator sent its packets on time."""
    per_deposit = run.server_cpu_s / max(completed, 1) * 1000
    print(f"  server CPU      {per_deposit:.1f} ms per deposit ({run.server_cpu_s:.1f} s in all), busiest second "
          f"{run.busiest_second:.0%} of its CPU; it waited {run.server_waited_s:.2f} s for that CPU "
          "(taken by other programs)")  # fmt: skip
    transmissions = [d.transmission for d in run.deposits if d.transmission is not None]
    sent = sum(len(t.offsets) for t in transmissions)
    late_sent = sum(t.late(LATE_S) for t in transmissions)
    print(f"  load generator  {share(late_sent, sent)} of {sent} packets sent more than {LATE_S * 1000:.0f} ms late, "
          f"{run.skipped_ticks} ticks skipped, {run.retransmissions} SIP retransmissions, "
          f"CPU {run.generator_cpu_s:.1f} s over {run.elapsed_s:.1f} s, waited {run.generator_waited_s:.2f} s "
          "for it")  # fmt: skip
    return run.skipped_ticks == 0 and late_sent <= TARGET_LATE_SHARE * sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument(
        "--seconds", type=float, default=12.0, help="of tone each call leaves; more than RAMP for all to record at once"
    )
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which the calls start")
    args = parser.parse_args()
    spacing = tone_spacing(args.calls)
    deposits = [Deposit(f, tone_frames(f, args.seconds)) for f in LOWEST_TONE_HZ + spacing * np.arange(args.calls)]
    with server_with_lines(2, simultaneous_calls=args.calls + 10) as (server, lines):
        assert server.process is not None
        pinning = pin_apart(server.process.pid).replace("sipp", "load generator")
        caller, callee = lines
        run = uvloop.run(run_deposits(server, caller, callee, deposits, args.ramp))
        checks = check_messages(server, callee.number, deposits, args.seconds)
    report(run, checks, args, pinning)
    sys.exit(0 if all(d.completed for d in deposits) else 1)


if __name__ == "__main__":
    main()

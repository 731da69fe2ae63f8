"""What a feature may do with a leg's media: play prompts, record, collect and send key presses, bridge it
with another leg, hang it up.

A MediaPort is built over the leg's media (a MediaSession, or anything with its `stream` and `listener`) and
listens to it from then on: every key press is kept, in order, until an operation takes it. So key presses
typed ahead are input: an interruptible prompt started while one is waiting is interrupted at once, and
`collect_digits` starts with the ones waiting. A recording starts afresh: the key presses waiting then
answered an earlier prompt, and are dropped.

The operations are coroutines; cancelling one stops its audio (and closes its file). When the leg's media
closes (the call hung up), a recording returns what it has and any other operation raises MediaClosed.
One play and one recording at a time: a second would replace the first's audio source or sink; a bridge
takes both. Hanging up closes the leg's media; the call core ends the call (BYE) when the feature returns.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

import numpy as np

from tonalite.media.dtmf import DtmfEvent
from tonalite.media.jitter import FRAME_DURATION, FRAME_SAMPLES
from tonalite.media.stream import MediaStream, Samples
from tonalite.media.wav import WavRecorder, read_wav
from tonalite.prompts import PROMPTS_DIR

TYPE_AHEAD = 32
"""Key presses kept while no operation takes them; older ones are forgotten first."""
BRIDGE_FRAMES = 3
"""Frames one side of a bridge holds for the other at most: the two legs tick in their own turns, and a leg
whose packets come in bursts must not add its bursts to the delay (older frames go first)."""

_prompts: dict[Path, Samples] = {}


async def read_audio(path: Path) -> Samples:
    """The samples of a WAV file to play, read in a worker thread. The platform's prompts never change: each is
    read once and kept (read-only); other files (messages, uploaded sounds) are read each time."""
    samples = _prompts.get(path)
    if samples is not None:
        return samples
    samples = await asyncio.to_thread(read_wav, path)
    if path.is_relative_to(PROMPTS_DIR):
        samples.flags.writeable = False
        _prompts[path] = samples
    return samples


class MediaClosed(Exception):
    """The leg's media has closed: its call hung up."""


class StopReason(Enum):
    DIGIT = "digit"
    MAX_LENGTH = "max_length"
    HANG_UP = "hang_up"


@dataclass(frozen=True, slots=True)
class Recording:
    """A finished recording: `duration` in seconds, `digit` the stop digit when one ended it."""

    path: Path
    duration: float
    reason: StopReason
    digit: str | None = None


class MediaEvents(Protocol):
    def key_pressed(self, event: DtmfEvent) -> None: ...

    def media_closed(self) -> None: ...


class LegMedia(Protocol):
    """A leg's media as a MediaPort drives it: a MediaSession, or a fake over a MediaStream in tests."""

    @property
    def stream(self) -> MediaStream: ...

    listener: MediaEvents | None

    def close(self) -> None: ...


class _Crossing:
    """One way of a bridge: the frames one leg hears (its sink), handed to the other leg's source."""

    def __init__(self) -> None:
        self._frames: deque[Samples] = deque(maxlen=BRIDGE_FRAMES)

    def heard(self, samples: Samples | None) -> None:
        if samples is not None:
            self._frames.append(samples)

    def next_frame(self) -> Samples | None:
        return self._frames.popleft() if self._frames else None


class _Playback:
    """An audio source: `samples` a frame per tick, the last one padded with silence; `on_end` is called as the
    last frame is handed out."""

    def __init__(self, samples: Samples, on_end: Callable[[], None]) -> None:
        self._samples = samples
        self._position = 0
        self._on_end = on_end
        self.finished = samples.size == 0

    def __call__(self) -> Samples | None:
        if self.finished:
            return None
        frame = self._samples[self._position : self._position + FRAME_SAMPLES]
        self._position += FRAME_SAMPLES
        if self._position >= self._samples.size:
            self.finished = True
            self._on_end()
        if frame.size < FRAME_SAMPLES:
            frame = np.pad(frame, (0, FRAME_SAMPLES - frame.size))
        return frame


class _Capture:
    """An audio sink writing to a recorder, full after `max_frames` ticks (`on_full` is called then).

    A gap (nothing arrived in time) is written as silence between audio frames only, so a recording runs from
    the first audio heard to the last: neither the jitter buffer's start-up delay, nor the key press that
    stopped it (a phone sends events instead of audio meanwhile), nor the silence after a hang-up is in it."""

    def __init__(self, recorder: WavRecorder, max_frames: int, on_full: Callable[[], None]) -> None:
        self._recorder = recorder
        self._frames_left = max_frames
        self._gap = 0
        self._on_full = on_full

    @property
    def full(self) -> bool:
        return self._frames_left <= 0

    def __call__(self, samples: Samples | None) -> None:
        if self.full:
            return
        self._frames_left -= 1
        if samples is None:
            if self._recorder.sample_count:  # a gap before any audio is not part of the recording
                self._gap += 1
        else:
            if self._gap:
                self._recorder.append(np.zeros(self._gap * FRAME_SAMPLES, dtype=np.int16))
                self._gap = 0
            self._recorder.append(samples)
        if self.full:
            self._on_full()


class MediaPort:
    def __init__(self, media: LegMedia) -> None:
        self._media = media
        self._stream = media.stream
        self._digits: deque[str] = deque(maxlen=TYPE_AHEAD)
        self._changed = asyncio.Event()
        self._closed = False
        media.listener = self

    def key_pressed(self, event: DtmfEvent) -> None:
        self._digits.append(event.digit)
        self._changed.set()

    def media_closed(self) -> None:
        self._closed = True
        self._changed.set()

    async def play(self, files: Sequence[Path], *, interruptible: bool = False) -> str | None:
        """Play the files one after another (8 kHz mono 16-bit WAV), returning once the last frame is sent; or,
        when `interruptible`, as soon as a key is pressed, with that key (taken: it is not input any more)."""
        audio = [await read_audio(path) for path in files]
        self._check_open()
        playback = _Playback(np.concatenate(audio) if audio else np.zeros(0, np.int16), self._changed.set)
        self._stream.play(playback)
        try:
            await self._wait(lambda: playback.finished or (interruptible and bool(self._digits)))
        finally:
            self._stream.play(None)
        self._check_open()
        return self._digits.popleft() if interruptible and self._digits else None

    async def record(self, path: Path, *, max_seconds: float, stop_digits: str = "#") -> Recording:
        """Record what the leg says into a new WAV file at `path` (FileExistsError if there is one) until a key
        of `stop_digits` is pressed (other keys are ignored), `max_seconds` have passed, or the call hangs up.
        Cancelled, the file is closed with what was recorded, and the cancellation goes on."""
        self._check_open()
        recorder = await asyncio.to_thread(WavRecorder, path)
        self._digits.clear()
        capture = _Capture(recorder, round(max_seconds / FRAME_DURATION), self._changed.set)
        stop_digit: str | None = None
        self._stream.listen(capture)
        try:
            while stop_digit is None:
                await self._wait(lambda: capture.full or bool(self._digits))
                if capture.full or self._closed:
                    break
                digit = self._digits.popleft()
                if digit in stop_digits:
                    stop_digit = digit
        finally:
            self._stream.listen(None)
            await asyncio.to_thread(recorder.close)
        if stop_digit is not None:
            reason = StopReason.DIGIT
        else:
            reason = StopReason.MAX_LENGTH if capture.full else StopReason.HANG_UP
        return Recording(path, recorder.duration, reason, stop_digit)

    async def collect_digits(
        self, *, max_digits: int, first_timeout: float, inter_digit_timeout: float, terminator: str | None = "#"
    ) -> str:
        """The keys pressed, starting with those typed ahead: up to `max_digits`, or up to the `terminator`
        (taken, not returned), or what came before `first_timeout` seconds passed without the first key or
        `inter_digit_timeout` without the next (possibly nothing)."""
        digits = ""
        timeout = first_timeout
        while len(digits) < max_digits:
            try:
                async with asyncio.timeout(timeout):
                    await self._wait(lambda: bool(self._digits))
            except TimeoutError:
                break
            self._check_open()
            digit = self._digits.popleft()
            if digit == terminator:
                break
            digits += digit
            timeout = inter_digit_timeout
        return digits

    async def bridge(self, other: MediaPort) -> None:
        """Each leg hears the other (through linear audio, so two legs with different codecs understand each
        other) until either hangs up; cancelled, the legs are parted. Key presses on either leg stay its port's
        input, for after the bridge."""
        self._check_open()
        other._check_open()
        to_other, to_self = _Crossing(), _Crossing()
        self._stream.listen(to_other.heard)
        other._stream.play(to_other.next_frame)
        other._stream.listen(to_self.heard)
        self._stream.play(to_self.next_frame)
        try:
            while not (self._closed or other._closed):
                self._changed.clear()
                other._changed.clear()
                waits = [asyncio.ensure_future(self._changed.wait()), asyncio.ensure_future(other._changed.wait())]
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for wait in waits:
                        wait.cancel()
        finally:
            for stream in (self._stream, other._stream):
                stream.listen(None)
                stream.play(None)

    def hang_up(self) -> None:
        """End the leg's media: operations under way raise MediaClosed (a recording returns what it has), and
        the call core hangs the call up when the feature returns."""
        self._media.close()

    def send_digits(self, digits: str) -> None:
        """Queue key presses to the leg (RFC 4733); DtmfError when it did not negotiate telephone-event."""
        for digit in digits:
            self._stream.send_digit(digit)

    async def _wait(self, ready: Callable[[], bool]) -> None:
        """Until `ready()` or the media closes: woken by every key press, the end of a playback or recording,
        and the close."""
        while not (ready() or self._closed):
            self._changed.clear()
            await self._changed.wait()

    def _check_open(self) -> None:
        if self._closed:
            raise MediaClosed("the call has hung up")

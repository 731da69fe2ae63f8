"""A fixed-delay jitter buffer for one incoming stream of 20 ms G.711 frames, sans-IO.

`push` files each packet in a slot, 20 ms of audio, found from its RTP timestamp; `pop`, called once per
20 ms period of the media tick, returns the next slot's payload, or None for a gap (the caller plays silence
or conceals); `drain` returns what is left when the stream ends.

- The play-out position counts slots, one per `pop`, so it follows the media tick, not the sender's clock.
  It is fixed at the first `pop` after a (re)sync: the slot due then, if the packet that synced the buffer
  is to play `target_delay` after it arrived. Earlier slots are kept open until then, so packets reordered
  ahead of the first one still play.
- Slots come from timestamps, not sequence numbers, so a sender that stops sending in silences (its
  sequence numbers run on, its timestamps jump) stays in time. Timestamps and sequence numbers are compared
  in serial arithmetic, so both wrap freely.
- A packet whose slot was already played is late and dropped; one whose slot is filled is a duplicate.
- A (re)sync flushes the buffer and restarts from the packet that caused it: the first packet; a new SSRC;
  a sequence jump RFC 3550 A.1 would call a restart; a timestamp `max_frames` or more ahead of the play-out
  position (a flood, a timestamp jump, or a sender clock faster than ours); and `LATE_RESYNC` late packets
  in a row that are each the newest yet (a delay step, or a sender clock slower than ours; late stragglers
  and replays are only dropped).
- Only slots within `max_frames` of the play-out position are held, so the buffer never holds more.
"""

from __future__ import annotations

import math
from enum import Enum

from tonalite.media.rtp import MAX_DROPOUT, MAX_MISORDER

FRAME_SAMPLES = 160
"""RTP timestamp units per frame: 20 ms at G.711's 8 kHz."""

FRAME_DURATION = 0.020

LATE_RESYNC = 3
"""Late packets in a row, each newer than any before, that make the buffer resync on the last of them."""

_SEQUENCE_MODULUS = 1 << 16
_TIMESTAMP_MODULUS = 1 << 32
_ROUNDING_SLACK = 1e-6  # of a frame: a pop exactly on a slot's due time plays that slot despite float error


def _serial_distance(newer: int, older: int, modulus: int) -> int:
    """How far `newer` is after `older` (negative when before), both counters that wrap at `modulus`."""
    half = modulus // 2
    return (newer - older + half) % modulus - half


class Arrival(Enum):
    """What `push` did with a packet."""

    QUEUED = "queued"
    RESYNCED = "resynced"  # the buffer was flushed and restarted from this packet
    DUPLICATE = "duplicate"
    LATE = "late"


class JitterBuffer:
    """`target_delay`: seconds from the arrival of the packet that syncs the buffer to its play-out, rounded to
    whole frames. `max_frames`: how many slots from the play-out position on the buffer holds."""

    __slots__ = (
        "_frames",
        "_highest_sequence",
        "_late_run",
        "_next_slot",
        "_next_timestamp",
        "_ssrc",
        "_sync_arrival",
        "_synced",
        "max_frames",
        "target_frames",
    )

    def __init__(self, target_delay: float = 0.060, max_frames: int = 50) -> None:
        self.target_frames = round(target_delay / FRAME_DURATION)
        if not 0 <= self.target_frames < max_frames:
            raise ValueError(f"a target delay of {target_delay} s does not fit in {max_frames} frames")
        self.max_frames = max_frames
        self._frames: dict[int, bytes] = {}
        self._synced = False
        self._ssrc: int | None = None
        self._highest_sequence = 0
        self._next_slot = 0  # the slot the next pop plays; slot 0 is the packet that synced the buffer
        self._next_timestamp = 0  # the RTP timestamp of that slot
        self._sync_arrival: float | None = None  # until the first pop after a sync fixes the play-out position
        self._late_run = 0

    def __len__(self) -> int:
        """Frames held."""
        return len(self._frames)

    @property
    def buffered(self) -> int:
        """Slots from the play-out position to the last one held, gaps included; 0 when none is held."""
        return max(self._frames) - self._next_slot + 1 if self._frames else 0

    def push(self, sequence: int, timestamp: int, payload: bytes, arrival: float, ssrc: int | None = None) -> Arrival:
        """File one packet; `arrival` is when it was received, `ssrc` (when given) its stream's."""
        ahead = _serial_distance(sequence, self._highest_sequence, _SEQUENCE_MODULUS)
        if not self._synced or (ssrc is not None and ssrc != self._ssrc) or not -MAX_MISORDER <= ahead < MAX_DROPOUT:
            return self._resync(sequence, timestamp, payload, arrival, ssrc)
        slot = self._next_slot + _serial_distance(timestamp, self._next_timestamp, _TIMESTAMP_MODULUS) // FRAME_SAMPLES
        if slot >= self._next_slot + self.max_frames:
            return self._resync(sequence, timestamp, payload, arrival, ssrc)
        if ahead > 0:
            self._highest_sequence = sequence
        if slot < self._next_slot:
            # A late straggler (behind the newest packet) is only dropped; late new packets mean the stream
            # now runs behind the play-out position.
            if ahead > 0:
                self._late_run += 1
                if self._late_run == LATE_RESYNC:
                    return self._resync(sequence, timestamp, payload, arrival, ssrc)
            return Arrival.LATE
        self._late_run = 0
        if slot in self._frames:
            return Arrival.DUPLICATE
        self._frames[slot] = payload
        return Arrival.QUEUED

    def pop(self, now: float) -> bytes | None:
        """The payload of the next slot, or None for a gap (or before the first packet)."""
        if not self._synced:
            return None
        if self._sync_arrival is not None:
            self._start_play_out(now - self._sync_arrival)
        payload = self._frames.pop(self._next_slot, None)
        self._advance(1)
        return payload

    def drain(self) -> list[bytes | None]:
        """The payloads of every slot from the play-out position to the last one held, in order (None for a
        gap), taken out of the buffer: what is left to play when the stream ends."""
        count = self.buffered
        payloads = [self._frames.pop(self._next_slot + offset, None) for offset in range(count)]
        self._advance(count)
        return payloads

    def _start_play_out(self, since_sync: float) -> None:
        """Skip to the slot due `since_sync` seconds after the syncing packet arrived: pops that start late
        must not add their lateness to the delay."""
        elapsed_frames = math.floor(since_sync / FRAME_DURATION + _ROUNDING_SLACK)
        self._advance(max(0, elapsed_frames - self.target_frames - self._next_slot))
        for passed in [slot for slot in self._frames if slot < self._next_slot]:
            del self._frames[passed]
        self._sync_arrival = None

    def _advance(self, frames: int) -> None:
        self._next_slot += frames
        self._next_timestamp = (self._next_timestamp + frames * FRAME_SAMPLES) % _TIMESTAMP_MODULUS

    def _resync(self, sequence: int, timestamp: int, payload: bytes, arrival: float, ssrc: int | None) -> Arrival:
        self._synced = True
        self._ssrc = ssrc
        self._highest_sequence = sequence
        self._frames = {0: payload}
        self._next_slot = -self.target_frames
        self._next_timestamp = (timestamp - self.target_frames * FRAME_SAMPLES) % _TIMESTAMP_MODULUS
        self._sync_arrival = arrival
        self._late_run = 0
        return Arrival.RESYNCED

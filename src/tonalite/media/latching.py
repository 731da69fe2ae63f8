"""Symmetric RTP latching (RFC 4961), sans-IO: where to send a remote party's packets.

The SDP names an address, but a phone behind NAT is reached at the address its packets come from. The first
packet taken latches that address and the packet's SSRC. After that, a packet from another address is taken,
and moves the latch, only if it carries the latched SSRC (the phone's NAT binding changed): a stranger who
finds the port cannot divert the call's media to itself. A packet from the latched address may bring a new
SSRC (the phone restarted its stream).

Used by the media stream of a leg this node answers and by the relay of an anchored call, per port.
"""

from __future__ import annotations

from typing import TypeAlias

Address: TypeAlias = tuple[str, int]


class RtpLatch:
    """Where a remote party is reached: the SDP's address (`named`, None when it has none) until a packet is
    latched, then that packet's source."""

    __slots__ = ("_named", "_remote", "_ssrc")

    def __init__(self, named: Address | None) -> None:
        self._named = named
        self._remote = named
        self._ssrc: int | None = None

    @property
    def remote(self) -> Address | None:
        return self._remote

    def admits(self, source: Address, ssrc: int) -> bool:
        """Whether a packet from `source` with `ssrc` may be taken; a caller that takes it then `latch`es it."""
        return self._ssrc is None or source == self._remote or ssrc == self._ssrc

    def latch(self, source: Address, ssrc: int) -> None:
        self._remote = source
        self._ssrc = ssrc

    def rename(self, named: Address | None) -> None:
        """The SDP names `named` now (a new offer or answer; None when it names no address the packets can go
        to, as in a hold). A latched address stays, as the phone is still where its packets come from (a phone
        behind NAT offers its private address again on every hold and session refresh), unless the SDP moves
        from one address to another: the phone has moved, so the latch starts over."""
        if self._named is not None and named is not None and named != self._named:
            self._ssrc = None
        self._named = named
        if self._ssrc is None:
            self._remote = named

"""The media of a call this node answers itself (voicemail): what to answer a caller's SDP offer with, and the
stream that goes with it. One audio codec (PCMU or PCMA, whichever the caller lists first) and RFC 4733
telephone-events when offered: the media stream handles one codec, so the answer names one. A caller that made
no offer (a late offer) gets ours, PCMA, PCMU and telephone-event, and its answer in the ACK chooses."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from tonalite.calls.media_port import LegMedia
from tonalite.media.g711 import PCMA, PCMU, G711Codec
from tonalite.media.stream import MediaStream
from tonalite.sip.sdp import Attribute, Codec, Connection, MediaDescription, Origin, SessionDescription
from tonalite.sip.sdp import answer as sdp_answer

_G711 = {codec.encoding_name.lower(): codec for codec in (PCMU, PCMA)}
TELEPHONE_EVENT = Codec("telephone-event", 8000)


class LocalMedia(LegMedia, Protocol):
    """A leg's media on this node (net.MediaSession): its RTP port for the answer, and its end."""

    @property
    def port(self) -> int: ...

    def close(self) -> None: ...


OpenMedia = Callable[[MediaStream, str], Awaitable[LocalMedia]]
"""Bind a port pair on the host (the node's address for the call's transport) and start the stream ticking."""


@dataclass(frozen=True, slots=True)
class OfferTerms:
    """What a caller's offer lets us use: the audio codec, telephone-event's payload type, where to send."""

    codec: G711Codec
    telephone_event: int | None
    remote: tuple[str, int] | None

    def stream(self) -> MediaStream:
        return MediaStream(self.codec, self.telephone_event, self.remote)


def offer_terms(offer: SessionDescription) -> OfferTerms | None:
    """The terms of the offer's first audio stream over RTP/AVP, None when it has none we can take."""
    for media in offer.media:
        if media.media != "audio" or media.port == 0 or not media.is_rtp:
            continue
        codec = next((_G711[c.encoding.lower()] for c in media.codecs.values() if c.encoding.lower() in _G711), None)
        if codec is None:
            continue
        event = next((pt for pt, c in media.codecs.items() if c.matches(TELEPHONE_EVENT)), None)
        connection = offer.connection_for(media)
        remote = None if connection is None else (connection.address, media.port)
        return OfferTerms(codec, event, remote)
    return None


LATE_OFFER_EVENT = 101
"""The telephone-event payload type of our own offer."""


def local_offer(host: str, port: int) -> SessionDescription:
    """Our offer to a caller that made none: audio on `port`, PCMA (the French network's law) then PCMU, and
    telephone-event."""
    codecs = (PCMA, PCMU)
    attributes = (
        *(Attribute("rtpmap", f"{codec.payload_type} {codec.encoding_name}/8000") for codec in codecs),
        Attribute("rtpmap", f"{LATE_OFFER_EVENT} {TELEPHONE_EVENT}"),
        Attribute("fmtp", f"{LATE_OFFER_EVENT} 0-15"),
        Attribute("ptime", "20"),
        Attribute("sendrecv"),
    )
    formats = (*(str(codec.payload_type) for codec in codecs), str(LATE_OFFER_EVENT))
    connection = Connection.to(host)
    return SessionDescription(
        origin=Origin("-", secrets.randbits(32), 0, host, "IN", connection.addrtype),
        name="-",
        connection=connection,
        media=(MediaDescription("audio", port, "RTP/AVP", formats, attributes=attributes),),
    )


def late_offer_stream() -> MediaStream:
    """The stream that goes with our offer, until the answer agrees its codec and address (`MediaStream.agree`)."""
    return MediaStream(PCMA, LATE_OFFER_EVENT)


def local_answer(offer: SessionDescription, terms: OfferTerms, host: str, port: int) -> SessionDescription:
    """The answer: the chosen codec (and telephone-event) on `port` for the first stream `terms` came from, every
    other stream refused."""
    supported = [Codec(terms.codec.encoding_name, 8000), *([TELEPHONE_EVENT] if terms.telephone_event else [])]
    chosen = next(
        index
        for index, media in enumerate(offer.media)
        if media.media == "audio"
        and media.port != 0
        and media.is_rtp
        and any(c.encoding.lower() == terms.codec.encoding_name.lower() for c in media.codecs.values())
    )
    ports = [port if index == chosen else 0 for index in range(len(offer.media))]
    return sdp_answer(offer, supported, host, ports, secrets.randbits(32))

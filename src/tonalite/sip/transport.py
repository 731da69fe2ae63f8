"""The SIP transports (RFC 3261 §18) a message travels on; as written in a Via, upper-cased."""

from __future__ import annotations

from enum import StrEnum


class Transport(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


def contact_uri(sent_by: str, transport: Transport) -> str:
    """This node's Contact on a transport (`host:port` as in its Vias): the transport named unless UDP."""
    suffix = "" if transport == Transport.UDP else f";transport={transport.value}"
    return f"<sip:{sent_by}{suffix}>"

"""The SIP transports (RFC 3261 §18) a message travels on; as written in a Via, upper-cased."""

from __future__ import annotations

from enum import StrEnum


class Transport(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"

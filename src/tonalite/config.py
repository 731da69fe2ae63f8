"""Settings: TONALITE_* environment variables, an optional TOML file, and the `serve` flags on top."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tonalite.calls.media_anchor import AnchorPolicy
from tonalite.services.errors import InvalidInput
from tonalite.services.numbering import parse_number
from tonalite.sip.transport import Transport


@dataclass(frozen=True, slots=True)
class ListenAddress:
    transport: Transport
    host: str
    port: int

    @classmethod
    def parse(cls, text: str, default_port: int) -> ListenAddress:
        """Parse `[transport:]host[:port]`; an IPv6 host is written in brackets."""
        text = text.strip()
        transport = Transport.UDP
        head, sep, rest = text.partition(":")
        if sep and head.lower() in Transport.__members__.values():
            transport = Transport(head.lower())
            text = rest
        if text.startswith("["):
            host, bracket, tail = text[1:].partition("]")
            if not bracket or (tail and not tail.startswith(":")):
                raise ValueError(f"malformed address {text!r}")
            port_text = tail[1:]
        else:
            host, _, port_text = text.partition(":")
        if not host:
            raise ValueError(f"missing host in {text!r}")
        try:
            port = int(port_text) if port_text else default_port
        except ValueError:
            raise ValueError(f"port must be a number in {text!r}") from None
        if not 0 < port < 65536:
            raise ValueError(f"port out of range in {text!r}")
        return cls(transport, host, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport.value}:{host}:{self.port}"


def _parse_port_range(text: str) -> tuple[int, int]:
    low_text, sep, high_text = text.partition("-")
    try:
        low, high = int(low_text), int(high_text)
    except ValueError:
        raise ValueError(f"RTP ports must read LOW-HIGH, got {text!r}") from None
    if not sep or not 1024 <= low < high <= 65535:
        raise ValueError(f"RTP ports must read LOW-HIGH within 1024-65535, got {text!r}")
    return low, high


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONALITE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    sip_listen: Annotated[list[ListenAddress], NoDecode] = Field(
        default_factory=lambda: [ListenAddress(Transport.UDP, "0.0.0.0", 5060)]
    )
    http_listen: Annotated[ListenAddress, NoDecode] = ListenAddress(Transport.TCP, "127.0.0.1", 8080)
    public_url: str = ""
    sip_domain: str = "localhost"
    rtp_ports: Annotated[tuple[int, int], NoDecode] = (10000, 20000)
    media_anchor: AnchorPolicy = AnchorPolicy.AUTO
    """When a line-to-line call's RTP is relayed through this node: `auto` when a phone is behind NAT (its SDP
    or Contact names another host than its SIP comes from), `always`, or `never` (the phones send to each other)."""
    voicemail_access_number: str = ""
    """The number anyone dials to consult a line's voicemail with the line's number and PIN (from another line,
    or from outside when a trunk brings the number in); empty: boxes open only by dialling 123 from their line."""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    mail_from: str = "Tonalite <noreply@localhost>"
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    register_min_expires: int = Field(default=60, ge=1)
    register_default_expires: int = Field(default=1800, ge=1)
    register_max_expires: int = Field(default=1800, ge=1)
    sip_nonce_secret: SecretStr = SecretStr("")
    sip_digest_algorithms: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["SHA-256", "MD5"])
    sip_t1_ms: int = Field(default=500, ge=10, le=4000)
    """RFC 3261 T1, the round-trip estimate every SIP timer derives from (Timer B, no answer at all from a
    phone, is 64*T1). At most T2 (4 s); below 500 ms only where round trips are known to be shorter."""
    ring_timeout_s: int = Field(default=180, ge=1, le=3600)
    """How long a call rings unanswered before the caller hears 480 and the callee's phone is cancelled."""
    sip_message_timeout_s: float = Field(default=20.0, gt=0, le=300)
    """How long a TCP/TLS message (or TLS handshake) may take from its first byte before the connection is
    closed."""
    sip_max_connections_per_source: int = Field(default=256, ge=1)
    """TCP/TLS connections accepted from one address (an IPv6 /64): the phones of a site behind one NAT
    share it."""
    sip_max_connections: int = Field(default=10_000, ge=1)
    """TCP/TLS connections in all (never more than half the file descriptor limit)."""
    sip_udp_buffer_bytes: int = Field(default=8 * 1024 * 1024, ge=65536, le=1024 * 1024 * 1024)
    """Receive and send buffer of the UDP sockets: datagrams that come while the node is busy (a burst, a
    garbage collection) wait there instead of being dropped. The kernel caps it at net.core.rmem_max /
    wmem_max unless the process may exceed them (CAP_NET_ADMIN)."""
    tls_certificate: Path | None = None
    tls_private_key: Path | None = None
    node_name: str = Field(default_factory=socket.gethostname)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = os.environ.get("TONALITE_CONFIG")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_file)))
        return tuple(sources)

    @field_validator("sip_listen", mode="before")
    @classmethod
    def _split_sip_listen(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [ListenAddress.parse(part, 5060) for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [ListenAddress.parse(v, 5060) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("sip_digest_algorithms", mode="before")
    @classmethod
    def _split_algorithms(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("sip_digest_algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str]) -> list[str]:
        known = {"SHA-256", "MD5"}
        normalised = [name.upper() for name in value]
        if not normalised or not set(normalised) <= known or len(set(normalised)) != len(normalised):
            raise ValueError("digest algorithms: SHA-256 and/or MD5, each once, in the order offered")
        return normalised

    @field_validator("http_listen", mode="before")
    @classmethod
    def _parse_http_listen(cls, value: Any) -> Any:
        if isinstance(value, str):
            address = ListenAddress.parse(value, 8080)
            return ListenAddress(Transport.TCP, address.host, address.port)
        return value

    @field_validator("voicemail_access_number")
    @classmethod
    def _parse_voicemail_access_number(cls, value: str) -> str:
        try:
            return parse_number(value) if value else value
        except InvalidInput:
            raise ValueError(f"not a phone number: {value!r}") from None

    @field_validator("rtp_ports", mode="before")
    @classmethod
    def _parse_rtp_ports(cls, value: Any) -> Any:
        return _parse_port_range(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_register_bounds(self) -> Settings:
        if not self.register_min_expires <= self.register_default_expires <= self.register_max_expires:
            raise ValueError("REGISTER expiry bounds must read min <= default <= max")
        return self

    @model_validator(mode="after")
    def _check_tls(self) -> Settings:
        if any(a.transport == Transport.TLS for a in self.sip_listen) and self.tls_certificate is None:
            raise ValueError("a tls: SIP listener needs a certificate (TONALITE_TLS_CERTIFICATE)")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tonalite.db'}"

    @property
    def panel_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/") + "/"
        host = self.http_listen.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.http_listen.port}/"

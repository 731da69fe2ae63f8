"""Carrier trunks, the way to and from the public network: what the operator configures, and the two
questions the call core asks of it: which trunk carries a number out, and which trunk a request comes from.

The call core asks at every call, straight from the database, as the line directory does: a trunk added or
removed with `tonalite trunk` is used from the next call on, on every node, without a restart. A platform has
a handful of trunks, so both lookups read them all and choose here (a source may be a network, which SQL
cannot match portably on a JSON column).

The digest password is stored as given, since answering a carrier's challenge needs the password itself, not
a hash; it stays out of reprs and `tonalite trunk list` masks it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tonalite.services.errors import Conflict, InvalidInput, NotFound
from tonalite.sip.transport import Transport
from tonalite.store.database import Database
from tonalite.store.models import Trunk

NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
PREFIX_PATTERN = re.compile(r"\+[0-9]{1,15}")
_HOSTNAME = re.compile(
    r"(?=.{1,253}\.?$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z][A-Za-z0-9-]{0,62}\.?"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_USERNAME, MAX_PASSWORD = 64, 128

_ALL = select(
    Trunk.name,
    Trunk.host,
    Trunk.port,
    Trunk.transport,
    Trunk.auth_username,
    Trunk.auth_password,
    Trunk.source_addresses,
    Trunk.prefixes,
).order_by(Trunk.name)


@dataclass(frozen=True, slots=True)
class CarrierTrunk:
    """A trunk as the call core uses it. No prefixes: it serves every number."""

    name: str
    host: str
    port: int
    transport: Transport
    username: str
    password: str = field(repr=False)
    source_addresses: tuple[str, ...]
    prefixes: tuple[str, ...]

    def match_length(self, number: str) -> int | None:
        """How many characters of `number` (E.164) its longest matching prefix covers; None if none matches."""
        if not self.prefixes:
            return 0
        lengths = [len(prefix) for prefix in self.prefixes if number.startswith(prefix)]
        return max(lengths) if lengths else None

    def source_match(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int | None:
        """The prefix length of its most specific source network holding `address`; None if none does."""
        lengths = [
            network.prefixlen
            for network in (ipaddress.ip_network(source) for source in self.source_addresses)
            if address.version == network.version and address in network
        ]
        return max(lengths) if lengths else None


class TrunkService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        name: str,
        host: str,
        *,
        port: int = 5060,
        transport: Transport | str = Transport.UDP,
        username: str = "",
        password: str = "",
        source_addresses: Iterable[str] = (),
        prefixes: Iterable[str] = (),
    ) -> CarrierTrunk:
        if NAME_PATTERN.fullmatch(name) is None:
            raise InvalidInput("error.trunk_name_invalid", "name")
        checked_transport = _transport(transport)
        trunk = CarrierTrunk(
            name=name,
            host=_host(host),
            port=_port(port),
            transport=checked_transport,
            username=_credential(username, MAX_USERNAME, "username"),
            password=_credential(password, MAX_PASSWORD, "password"),
            source_addresses=tuple(dict.fromkeys(_source(text) for text in source_addresses)),
            prefixes=tuple(dict.fromkeys(_prefix(text) for text in prefixes)),
        )
        if bool(trunk.username) != bool(trunk.password):
            raise InvalidInput("error.trunk_credentials_pair", "password" if trunk.username else "username")
        try:
            with self._db.session() as session:
                if session.scalar(select(Trunk.id).where(Trunk.name == name)) is not None:
                    raise Conflict("error.trunk_name_taken", "name", name=name)
                session.add(
                    Trunk(
                        name=trunk.name,
                        host=trunk.host,
                        port=trunk.port,
                        transport=trunk.transport,
                        auth_username=trunk.username,
                        auth_password=trunk.password,
                        source_addresses=list(trunk.source_addresses),
                        prefixes=list(trunk.prefixes),
                    )
                )
        except IntegrityError:  # added by someone else between the check and the insert
            raise Conflict("error.trunk_name_taken", "name", name=name) from None
        return trunk

    def remove(self, name: str) -> None:
        with self._db.session() as session:
            trunk = session.scalar(select(Trunk).where(Trunk.name == name))
            if trunk is None:
                raise NotFound()
            session.delete(trunk)

    def list(self) -> list[CarrierTrunk]:
        """Every trunk, by name."""
        with self._db.engine.connect() as connection:
            rows = connection.execute(_ALL).all()
        return [
            CarrierTrunk(name, host, port, Transport(transport), username, password, tuple(sources), tuple(prefixes))
            for name, host, port, transport, username, password, sources, prefixes in rows
        ]

    def for_number(self, number: str) -> CarrierTrunk | None:
        """The trunk that carries an outside number (E.164): the longest matching prefix wins, a trunk without
        prefixes serves what no prefix claims, and between equals the first by name."""
        return _best((trunk, trunk.match_length(number)) for trunk in self.list())

    def by_source(self, host: str) -> CarrierTrunk | None:
        """The trunk a request from `host` (an IP address) comes from: the most specific source network wins,
        and between equals the first by name."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return None
        return _best((trunk, trunk.source_match(address)) for trunk in self.list())


def _best(candidates: Iterable[tuple[CarrierTrunk, int | None]]) -> CarrierTrunk | None:
    best: tuple[CarrierTrunk, int] | None = None
    for trunk, score in candidates:
        if score is not None and (best is None or score > best[1]):
            best = (trunk, score)
    return best[0] if best is not None else None


def _transport(value: Transport | str) -> Transport:
    try:
        return Transport(value.lower())
    except ValueError:
        raise InvalidInput("error.transport_invalid", "transport", value=value) from None


def _host(text: str) -> str:
    """An IP address or a host name (resolved when the trunk is used, over any transport)."""
    host = text.strip()
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if _HOSTNAME.fullmatch(host) is None:
        raise InvalidInput("error.host_invalid", "host", value=host[:255])
    return host.lower()


def _port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise InvalidInput("error.port_range", "port")
    return port


def _credential(text: str, max_length: int, field_name: str) -> str:
    """Kept exactly as given (spaces are part of a password), but never a control character: it goes into a
    SIP header, where a CR or LF would end the header."""
    if len(text) > max_length:
        raise InvalidInput("error.text_too_long", field_name, max=max_length)
    if _CONTROL.search(text):
        raise InvalidInput("error.value_invalid", field_name)
    return text


def _source(text: str) -> str:
    """An address (`192.0.2.10`) or a network (`192.0.2.0/28`), in its canonical spelling."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        raise InvalidInput("error.address_invalid", "source", value=text.strip()[:64]) from None
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


def _prefix(text: str) -> str:
    prefix = text.strip()
    if PREFIX_PATTERN.fullmatch(prefix) is None:
        raise InvalidInput("error.prefix_invalid", "prefix", value=prefix[:20])
    return prefix

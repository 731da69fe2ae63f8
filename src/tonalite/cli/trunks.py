"""`tonalite trunk`: the carrier trunks that carry calls to and from the public network.

The server reads the trunks at every call: what these commands change is used from the next call on, without
a restart. The trunk's password is stored as given (answering the carrier's challenge needs it) and never
printed back.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tonalite.cli.configuration import DatabaseUrlOption, DataDirOption, open_platform
from tonalite.cli.errors import unknown_as
from tonalite.cli.output import show_fields, show_table
from tonalite.services.trunks import CarrierTrunk
from tonalite.sip.transport import Transport

app = typer.Typer(help="Carrier trunks: the way to and from the public network.")

EVERY_NUMBER = "all"
NO_SOURCE = "none"


def _repeatable(metavar: str, help_text: str) -> Any:
    """An option that may be given several times, each time one more value."""
    return typer.Option(metavar=metavar, help=f"{help_text}; repeat for several.", show_default=False)


@app.command()
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The trunk's name: letters, digits, . - _")],
    host: Annotated[str, typer.Option(metavar="HOST", help="The carrier's address (an IP address or a host name).")],
    port: Annotated[int, typer.Option(metavar="PORT", help="The carrier's SIP port.")] = 5060,
    transport: Annotated[Transport, typer.Option(help="How to reach the carrier.")] = Transport.UDP,
    username: Annotated[
        str, typer.Option(metavar="USER", help="Digest username, if the carrier challenges calls.")
    ] = "",
    password: Annotated[str, typer.Option(metavar="PASSWORD", help="Digest password, with --username.")] = "",
    source: Annotated[
        list[str] | None,
        _repeatable("ADDRESS", "An address or network (192.0.2.0/28) the carrier calls from"),
    ] = None,
    prefix: Annotated[
        list[str] | None,
        _repeatable("PREFIX", "E.164 prefix of the numbers it carries (+33, +331); default: every number"),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a trunk. Calls to numbers off the platform go out through the trunk with the longest matching
    prefix; calls from its source addresses to the platform's numbers come in without a challenge."""
    with open_platform(database_url, data_dir) as platform:
        trunk = platform.services.trunks.add(
            name,
            host,
            port=port,
            transport=transport,
            username=username,
            password=password,
            source_addresses=source or [],
            prefixes=prefix or [],
        )
    show_fields(
        [
            ("trunk", trunk.name),
            ("address", f"{trunk.transport.value}:{trunk.host}:{trunk.port}"),
            ("username", trunk.username),
            ("password", _masked(trunk.password)),
            ("sources", _sources(trunk)),
            ("prefixes", _prefixes(trunk)),
        ]
    )


@app.command("list")
def list_trunks(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """List the trunks, passwords masked."""
    with open_platform(database_url, data_dir) as platform:
        trunks = platform.services.trunks.list()
    show_table(
        ("NAME", "HOST", "PORT", "TRANSPORT", "USERNAME", "PASSWORD", "SOURCES", "PREFIXES"),
        [
            (
                trunk.name,
                trunk.host,
                str(trunk.port),
                trunk.transport.value,
                trunk.username,
                _masked(trunk.password),
                _sources(trunk),
                _prefixes(trunk),
            )
            for trunk in trunks
        ],
    )


@app.command()
def remove(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The trunk's name.")],
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Remove a trunk: calls in progress through it go on, new ones no longer use it."""
    with open_platform(database_url, data_dir) as platform, unknown_as(f"trunk {name}"):
        platform.services.trunks.remove(name)
    typer.echo(f"trunk {name} removed")


def _masked(secret: str) -> str:
    """Whether there is a secret, never what it is."""
    return "********" if secret else ""


def _sources(trunk: CarrierTrunk) -> str:
    return ",".join(trunk.source_addresses) or NO_SOURCE


def _prefixes(trunk: CarrierTrunk) -> str:
    return ",".join(trunk.prefixes) or EVERY_NUMBER

"""`tonalite serve`: the platform's listeners, on this process's loop until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from tonalite.app import run
from tonalite.cli.configuration import DatabaseUrlOption, DataDirOption, load_settings, ready_platform


def serve(
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    sip: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESSES",
            help="SIP listen addresses, comma-separated [transport:]host:port with transport udp, tcp or tls.",
            show_default=False,
        ),
    ] = None,
    http: Annotated[
        str | None,
        typer.Option(
            metavar="HOST:PORT",
            help="HTTP listen address host:port of the REST API and control panel.",
            show_default=False,
        ),
    ] = None,
    sip_domain: Annotated[
        str | None,
        typer.Option(metavar="DOMAIN", help="SIP domain, the realm of the lines' credentials.", show_default=False),
    ] = None,
    rtp_ports: Annotated[
        str | None, typer.Option(metavar="LOW-HIGH", help="RTP port range LOW-HIGH.", show_default=False)
    ] = None,
) -> None:
    """Run the platform: the REST API and the control panel (SIP comes with a later release)."""
    settings = load_settings(
        data_dir=data_dir,
        database_url=database_url,
        sip_listen=sip,
        http_listen=http,
        sip_domain=sip_domain,
        rtp_ports=rtp_ports,
    )
    platform = ready_platform(settings)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _exit_cleanly)
    typer.echo(f"Control panel: {settings.panel_url}")
    run(platform)


def _exit_cleanly(_signal: int, _frame: FrameType | None) -> None:
    """uvicorn shuts down gracefully on SIGTERM, then raises it again under this handler: a clean exit."""
    sys.exit(0)

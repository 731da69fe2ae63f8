"""`tonalite demo`: the demo account, its lines and alias numbers, with fresh passwords."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tonalite.cli.configuration import DatabaseUrlOption, DataDirOption, open_platform
from tonalite.cli.output import credential_fields, show_fields
from tonalite.services.demo import DemoCredentials
from tonalite.services.numbering import format_national


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object, numbers in E.164.")] = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create the demo account unless it exists, reset its passwords, and print how to use it."""
    with open_platform(database_url, data_dir) as platform:
        credentials = platform.services.demo.ensure()
    panel_url = platform.settings.panel_url
    if as_json:
        typer.echo(json.dumps(_as_json(panel_url, credentials)))
        return
    show_fields(
        [
            ("control panel", panel_url),
            ("login", credentials.login),
            ("password", credentials.password),
            ("billing group", str(credentials.billing_group_id)),
        ]
    )
    for line in credentials.lines:
        typer.echo()
        show_fields(credential_fields(line))
    typer.echo()
    show_fields([("alias numbers", ", ".join(format_national(number) for number in credentials.aliases))])


def _as_json(panel_url: str, credentials: DemoCredentials) -> dict[str, object]:
    return {
        "panel": {"url": panel_url, "login": credentials.login, "password": credentials.password},
        "billing_group": credentials.billing_group_id,
        "lines": [
            {"number": line.number, "username": line.username, "password": line.password, "domain": line.domain}
            for line in credentials.lines
        ],
        "aliases": credentials.aliases,
    }

"""`tonalite line`: SIP lines, across every account."""

from __future__ import annotations

from typing import Annotated

import typer

from tonalite.cli.configuration import DatabaseUrlOption, DataDirOption, open_platform
from tonalite.cli.errors import unknown_as
from tonalite.cli.output import credential_fields, show_fields, show_table
from tonalite.services.numbering import format_national

app = typer.Typer(help="SIP lines.")


@app.command()
def create(
    billing_group: Annotated[int, typer.Option(metavar="ID", help="Id of the billing group the line belongs to.")],
    number: Annotated[
        str | None,
        typer.Option(
            metavar="NUMBER",
            help="Phone number, national or E.164; default: the first available number of the inventory.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str, typer.Option(metavar="TEXT", help="Display name.")] = "",
    simultaneous_calls: Annotated[
        int, typer.Option(metavar="N", help="Calls the line may carry at once, 1 to 100.")
    ] = 2,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a SIP line and print its credentials; the password is shown only this once."""
    with open_platform(database_url, data_dir) as platform, unknown_as(f"billing group {billing_group}"):
        _, credentials = platform.services.lines.create(billing_group, number, name, simultaneous_calls)
    show_fields(credential_fields(credentials))


@app.command("list")
def list_lines(
    billing_group: Annotated[
        int | None, typer.Option(metavar="ID", help="Only the lines of this billing group.", show_default=False)
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List the lines: number, SIP username, display name and billing group."""
    with open_platform(database_url, data_dir) as platform:
        if billing_group is None:
            lines = platform.services.lines.list_all()
        else:
            with unknown_as(f"billing group {billing_group}"):
                lines = platform.services.lines.list_in_billing_group(billing_group)
    show_table(
        ("NUMBER", "SIP USERNAME", "NAME", "BILLING GROUP"),
        [
            (format_national(line.number), line.sip_username, line.display_name, str(line.billing_group_id))
            for line in lines
        ],
    )


@app.command("password-reset")
def password_reset(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="The line's number, national or E.164.")],
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Give a line a new SIP password and print it; it is shown only this once."""
    with open_platform(database_url, data_dir) as platform, unknown_as(f"line {number}"):
        credentials = platform.services.lines.reset_password_by_number(number)
    show_fields(credential_fields(credentials))

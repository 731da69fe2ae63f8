"""`tonalite number`: the operator's number inventory and the alias numbers of billing groups."""

from __future__ import annotations

from typing import Annotated

import typer

from tonalite.cli.configuration import DatabaseUrlOption, DataDirOption, open_platform
from tonalite.cli.errors import USAGE, CommandError, unknown_as
from tonalite.services.numbering import format_national, parse_number

app = typer.Typer(help="Phone numbers: the inventory and alias numbers.")


@app.command()
def add(
    numbers: Annotated[
        list[str],
        typer.Argument(metavar="NUMBER", help="Numbers, national (01 99 00 10 01) or E.164 (+33199001001)."),
    ],
    alias_of_billing_group: Annotated[
        int | None,
        typer.Option(
            metavar="ID",
            help="Create them as alias numbers of this billing group, not as free numbers.",
            show_default=False,
        ),
    ] = None,
    description: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Description of the alias numbers.", show_default=False)
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add numbers to the inventory, or as alias numbers of a billing group: all of them or, on error, none."""
    if description is not None and alias_of_billing_group is None:
        raise CommandError("--description goes with --alias-of-billing-group", USAGE)
    requested = list(dict.fromkeys(parse_number(text, field="number") for text in numbers))
    with open_platform(database_url, data_dir) as platform:
        if alias_of_billing_group is None:
            added = platform.services.numbers.add_to_inventory(requested)
            outcomes = ("added to the inventory", "already in the inventory")
        else:
            with unknown_as(f"billing group {alias_of_billing_group}"):
                added = platform.services.numbers.add_aliases(alias_of_billing_group, requested, description or "")
            group = f"billing group {alias_of_billing_group}"
            outcomes = (f"added as an alias number of {group}", f"already an alias number of {group}")
    for number in requested:
        typer.echo(f"{format_national(number)}  {outcomes[0] if number in added else outcomes[1]}")

"""`tonalite account`: customer accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from tonalite.cli.configuration import DatabaseUrlOption, DataDirOption, open_platform
from tonalite.cli.output import show_fields
from tonalite.services.secrets import generate_password
from tonalite.store.models import Language

app = typer.Typer(help="Customer accounts.")


@app.command()
def create(
    login: Annotated[
        str, typer.Argument(metavar="LOGIN", help="Sign-in name: 3 to 64 letters, digits, '.', '-' or '_'.")
    ],
    company: Annotated[str, typer.Option(metavar="NAME", help="Company name.", show_default=False)],
    email: Annotated[str, typer.Option(metavar="EMAIL", help="Contact email address.", show_default=False)],
    mobile: Annotated[
        str | None, typer.Option(metavar="NUMBER", help="Mobile number, national or E.164.", show_default=False)
    ] = None,
    language: Annotated[Language, typer.Option(help="Language of the control panel and messages.")] = Language.FR,
    password: Annotated[
        str | None,
        typer.Option(
            metavar="PASSWORD",
            help="Control panel password; without it one is generated and printed.",
            show_default=False,
        ),
    ] = None,
    billing_group: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="Name of the first billing group; default: the company name.", show_default=False
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a customer account and its first billing group."""
    chosen_password = generate_password() if password is None else password
    with open_platform(database_url, data_dir) as platform:
        account, group = platform.services.accounts.create_with_billing_group(
            login, chosen_password, company, email, billing_group or company, mobile, language
        )
    fields = [("account", f"{account.login} (id {account.id})"), ("billing group", f"{group.id} ({group.description})")]
    if password is None:
        fields.append(("password", chosen_password))
    show_fields(fields)

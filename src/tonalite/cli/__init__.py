"""The command line (Typer): `tonalite serve`, `db upgrade`, `demo`, and the operator's account, line, number
and trunk administration. Every command is a thin layer over the services of the platform it builds."""

from __future__ import annotations

import typer

from tonalite.cli import accounts, database, lines, numbers, trunks
from tonalite.cli.demo import demo
from tonalite.cli.errors import ReportingGroup
from tonalite.cli.serve import serve

app = typer.Typer(
    name="tonalite",
    cls=ReportingGroup,
    help=(
        "Tonalite, hosted business telephony. Settings come from TONALITE_* environment variables "
        "(TONALITE_DATABASE_URL, TONALITE_DATA_DIR, TONALITE_SIP_LISTEN, …) and from the TOML file named by "
        "TONALITE_CONFIG; command options override them."
    ),
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.add_typer(database.app, name="db")
app.command()(demo)
app.add_typer(accounts.app, name="account")
app.add_typer(lines.app, name="line")
app.add_typer(numbers.app, name="number")
app.add_typer(trunks.app, name="trunk")


def main() -> None:
    app()

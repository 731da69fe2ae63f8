"""`tonalite db`: the database schema."""

from __future__ import annotations

import typer

from tonalite.cli.configuration import (
    DatabaseUrlOption,
    DataDirOption,
    checked_database_url,
    load_settings,
    shown_url,
)
from tonalite.store import migrate

app = typer.Typer(help="Database schema.")


@app.command()
def upgrade(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """Migrate the database to the latest schema; a SQLite database is created with its directory."""
    url = checked_database_url(load_settings(database_url=database_url, data_dir=data_dir))
    migrate.upgrade(url)
    typer.echo(f"The database {shown_url(url)} is at the latest schema.")

"""What a command runs on: Settings from TONALITE_* and TONALITE_CONFIG with its flags on top, and the platform."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from tonalite.app import Platform, build_platform
from tonalite.cli.errors import USAGE, CommandError
from tonalite.config import Settings
from tonalite.store.migrate import is_current

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="Data directory: voicemail, recordings, sounds and the default SQLite database.",
        show_default=False,
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="SQLAlchemy URL of the database (sqlite:///… or postgresql://…); default: SQLite in the data directory.",
        show_default=False,
    ),
]


def load_settings(**flags: Any) -> Settings:
    """The settings, with the flags that were given on top; a bad value is a usage error."""
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        problem = error.errors()[0]
        reason = problem.get("ctx", {}).get("error") or problem["msg"]
        name = ".".join(str(part) for part in problem["loc"])
        raise CommandError(f"invalid setting {name}: {reason}", USAGE) from None
    except tomllib.TOMLDecodeError as error:
        raise CommandError(f"invalid TONALITE_CONFIG file: {error}", USAGE) from None


def checked_database_url(settings: Settings) -> str:
    url = settings.effective_database_url
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise CommandError("invalid setting database_url: not a database URL", USAGE) from None
    return url


def shown_url(url: str) -> str:
    """The URL without its password, fit to print."""
    return make_url(url).render_as_string(hide_password=True)


def ready_platform(settings: Settings) -> Platform:
    """The platform, on a database whose schema is up to date."""
    url = checked_database_url(settings)
    if not is_current(url):
        raise CommandError(f"the database {shown_url(url)} is not at the latest schema: run `tonalite db upgrade`")
    return build_platform(settings)


@contextmanager
def open_platform(database_url: str | None, data_dir: Path | None) -> Iterator[Platform]:
    platform = ready_platform(load_settings(database_url=database_url, data_dir=data_dir))
    try:
        yield platform
    finally:
        platform.db.dispose()

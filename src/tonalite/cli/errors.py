"""How a command fails: one `error: ...` line on stderr and an exit status, never a traceback.

Status 2: the command line itself is wrong (usage, a malformed value, an invalid setting).
Status 1: it is well formed but cannot be done here (an unknown object, a conflict, a database that is not
migrated or cannot be reached).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from tonalite.services.errors import InvalidInput, NotFound, ServiceError
from tonalite.store.models import Language

USAGE = 2
FAILURE = 1


class CommandError(Exception):
    """A failure the command line words itself."""

    def __init__(self, message: str, status: int = FAILURE) -> None:
        super().__init__(message)
        self.status = status


@contextmanager
def unknown_as(what: str) -> Iterator[None]:
    """Say what was not found: the services' NotFound never does (it does not tell absent from not yours)."""
    try:
        yield
    except NotFound:
        raise CommandError(f"unknown {what}") from None


def _explained(error: Exception) -> tuple[str, int] | None:
    """The line and the status for an expected failure; None for a bug, which keeps its traceback."""
    if isinstance(error, CommandError):
        return str(error), error.status
    if isinstance(error, ServiceError):
        message = error.message(Language.EN)
        status = USAGE if isinstance(error, InvalidInput) else FAILURE
        return (f"{error.field}: {message}" if error.field else message), status
    if isinstance(error, typer.TyperException):  # Click's usage errors: a missing option, a bad integer, …
        context = getattr(error, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        return error.format_message() + hint, error.exit_code
    if isinstance(error, SQLAlchemyError):  # the first line names the problem; the SQL and its parameters follow
        return f"database: {str(error).splitlines()[0]}", FAILURE
    if isinstance(error, OSError):
        return str(error), FAILURE
    return None


class ReportingGroup(TyperGroup):
    """The root command. It always runs as a program: it ends the process with the command's exit status."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> NoReturn:
        try:
            outcome = super().main(
                args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra
            )
        except Exception as error:
            explained = _explained(error)
            if explained is None:
                raise
            message, status = explained
            typer.echo(f"error: {message}", err=True)
            sys.exit(status)
        # Without standalone mode, Click returns the code of an explicit exit (0 after --help) or the command's None.
        sys.exit(outcome if isinstance(outcome, int) else 0)

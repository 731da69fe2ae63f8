"""Text output: labelled fields, line credentials and tables, all on stdout."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from tonalite.services.lines import LineCredentials
from tonalite.services.numbering import format_national


def show_fields(fields: Sequence[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in fields) + 1
    for label, value in fields:
        typer.echo(f"{label + ':':<{width}} {value}")


def credential_fields(credentials: LineCredentials) -> list[tuple[str, str]]:
    return [
        ("number", format_national(credentials.number)),
        ("SIP username", credentials.username),
        ("SIP password", credentials.password),
        ("SIP domain", credentials.domain),
    ]


def show_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

"""Helpers of the command-line tests: running `tonalite`, reading its output, and the database's content."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from typer.testing import Result

from tonalite.store.models import Base

TONALITE = Path(sys.executable).with_name("tonalite")


def run_tonalite(
    *args: str, env: dict[str, str] | None = None, entry_point: Sequence[str] = (str(TONALITE),)
) -> subprocess.CompletedProcess[str]:
    """`tonalite` in a process of its own, without the caller's TONALITE_* settings."""
    return subprocess.run([*entry_point, *args], capture_output=True, text=True, env=clean_environment(env), timeout=60)


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("TONALITE_")}
    return inherited | (extra or {})


def assert_one_error(result: Result, status: int, *fragments: str) -> str:
    """The command failed with `status`, nothing on stdout and one `error:` line on stderr holding `fragments`."""
    assert result.exit_code == status, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def field_blocks(text: str) -> list[dict[str, str]]:
    """`label: value` lines, one dict per block of lines between blank lines."""
    return [
        {label.strip(): value.strip() for label, _, value in (line.partition(":") for line in block.splitlines())}
        for block in text.strip().split("\n\n")
    ]


def database_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to tell that a failed command wrote nothing."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

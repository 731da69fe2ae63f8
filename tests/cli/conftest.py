"""Fixtures of the command-line tests: `tonalite` run in-process on a migrated SQLite database of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tonalite.app import Platform, build_platform
from tonalite.cli import app
from tonalite.config import Settings


@pytest.fixture(autouse=True)
def _without_tonalite_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's TONALITE_* settings must not reach the commands under test."""
    for name in list(os.environ):
        if name.startswith("TONALITE_"):
            monkeypatch.delenv(name)


@dataclass(frozen=True, slots=True)
class Tonalite:
    """`tonalite ARGS… --database-url URL`, in-process."""

    database_url: str

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, [*args, "--database-url", self.database_url], env=env)


@pytest.fixture
def tonalite(sqlite_url: str) -> Tonalite:
    return Tonalite(sqlite_url)


@pytest.fixture
def platform(sqlite_url: str, tmp_path: Path) -> Iterator[Platform]:
    """The platform on the database the commands use, to look at what they did."""
    built = build_platform(Settings(database_url=sqlite_url, data_dir=tmp_path))
    yield built
    built.db.dispose()

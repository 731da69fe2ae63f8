"""The command line (Typer)."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("not built yet")

"""Reprs that leave secrets out: records holding password hashes or digest responses may end up in a log."""

from __future__ import annotations

from collections.abc import Container
from typing import Any, NamedTuple


def repr_without(record: NamedTuple, hidden: Container[str]) -> str:
    """`Name(field=value, …)` like a named tuple's own repr, without the fields named in `hidden`."""
    values: tuple[Any, ...] = tuple(record)
    shown = ", ".join(
        f"{name}={value!r}" for name, value in zip(record._fields, values, strict=True) if name not in hidden
    )
    return f"{type(record).__name__}({shown})"

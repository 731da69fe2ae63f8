"""A statement run on the driver takes its values in the order it is given, and reads no column it would have
to convert: both are checked once, when it is compiled."""

from __future__ import annotations

import pytest
from sqlalchemy import Dialect, insert, select
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite

from tonalite.store.database import DriverStatement
from tonalite.store.models import Line, Registration, RegistrationEvent

EVENT_COLUMNS = ("line_id", "kind", "contact", "source", "user_agent", "occurred_at")
DIALECTS = [pysqlite.dialect(), psycopg.dialect()]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_values_go_through_the_column_types(dialect: Dialect) -> None:
    statement = DriverStatement.compile(insert(RegistrationEvent), dialect, EVENT_COLUMNS)
    assert [index for index, _ in statement.processors] == [1, 5]  # the enum and the datetime


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_a_statement_with_other_parameters_is_refused(dialect: Dialect) -> None:
    with pytest.raises(ValueError, match="parameters"):  # the columns left out have defaults: parameters too
        DriverStatement.compile(insert(RegistrationEvent), dialect, EVENT_COLUMNS[:2])


def test_positional_values_must_follow_the_statement() -> None:
    with pytest.raises(ValueError, match="parameters"):
        DriverStatement.compile(insert(RegistrationEvent), pysqlite.dialect(), EVENT_COLUMNS[::-1])


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_a_column_that_needs_converting_cannot_be_read(dialect: Dialect) -> None:
    DriverStatement.compile(select(Line.id, Line.number), dialect, [])
    with pytest.raises(ValueError, match="result processing"):
        DriverStatement.compile(select(Registration.expires_at), dialect, [])

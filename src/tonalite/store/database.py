"""The database handle: engine, sessions, and the SQLite settings that make it safe to share; and the direct
DBAPI path of the statements on the SIP hot paths (`DriverStatement`, `ThreadConnections`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ClauseElement, Connection, Dialect, Engine, Select, create_engine, event, exc, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler

Row = tuple[Any, ...]
DriverParameters = Sequence[Any] | Mapping[str, Any]
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Reads through a memory map instead of a read() system call per page: every commit of another connection
    # (registrations are written all the time) empties this one's page cache, and each SIP request looks up
    # its line again.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def create_database_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A Core statement compiled once for a dialect, run on the DBAPI cursor with plain tuples of values.

    For the statements on the SIP hot paths, where SQLAlchemy's work per execution (and per row of a batch)
    costs more than the database's. Values come in the order of `names` and go through their columns' bind
    processors (an enum to its value, a datetime to UTC and, on SQLite, to text), as SQLAlchemy would send
    them; rows come back as the driver returns them, so the selected columns must need no result processing.
    """

    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect, names: Sequence[str]) -> DriverStatement:
        """Compile for `dialect`; raises ValueError if the statement's parameters are not `names`, in that
        order (an INSERT's follow its table's columns), or if a selected column needs result processing."""
        compiled = statement.compile(dialect=dialect, column_keys=list(names), for_executemany=True)
        assert isinstance(compiled, SQLCompiler)
        names = tuple(names)
        if compiled.positional:
            matches = tuple(compiled.positiontup or ()) == names
        else:
            matches = set(compiled.binds) == set(names)
        if not matches:
            raise ValueError(f"the statement's parameters are {tuple(compiled.binds)}, not {names}")
        if isinstance(statement, Select):
            for column in statement.selected_columns:
                if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                    raise ValueError(f"{column} needs SQLAlchemy's result processing")
        types = (compiled.binds[name].type.dialect_impl(dialect) for name in names)
        processors = ((index, type_.bind_processor(dialect)) for index, type_ in enumerate(types))
        return cls(
            compiled.string,
            names,
            compiled.positional,
            tuple((index, process) for index, process in processors if process is not None),
        )

    def parameters(self, values: Sequence[Any]) -> DriverParameters:
        """One row of values as the driver takes it."""
        if self.processors:
            converted = list(values)
            for index, process in self.processors:
                converted[index] = process(converted[index])
            values = tuple(converted)
        return values if self.positional else dict(zip(self.names, values, strict=True))

    def execute_many(self, connection: Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Run the statement for each row (the driver's executemany), in the connection's transaction."""
        parameters = [self.parameters(row) for row in rows]
        if parameters:
            connection.exec_driver_sql(self.sql, parameters)


class ThreadConnections:
    """A DBAPI connection of each thread's own, out of the pool and in autocommit, for the lookups made on
    every SIP request: a pool checkout costs more than such a query, and on PostgreSQL adds three round trips
    (the pre-ping, and the BEGIN and ROLLBACK around the query).

    Each query sees what is committed when it runs. A connection that fails is closed and forgotten; a query
    whose connection the database had dropped (a restart, an idle timeout) is run once more on a new one, as
    the pool's pre-ping would have spared it the failure. `close` closes them all (Database.dispose).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._connections: dict[int, DBAPIConnection] = {}
        self._lock = threading.Lock()

    def first(self, statement: DriverStatement, values: Sequence[Any]) -> Row | None:
        """The statement's first row, or None; errors are raised as SQLAlchemy's DBAPIError."""
        rows = self._run(statement, values, every=False)
        return rows[0] if rows else None

    def all(self, statement: DriverStatement, values: Sequence[Any]) -> list[Row]:
        """The statement's rows, as `first` runs it."""
        return self._run(statement, values, every=True)

    def _run(self, statement: DriverStatement, values: Sequence[Any], every: bool) -> list[Row]:
        parameters = statement.parameters(values)
        try:
            return self._fetch(statement.sql, parameters, every)
        except exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
        return self._fetch(statement.sql, parameters, every)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            _close_quietly(connection)

    def _fetch(self, sql: str, parameters: DriverParameters, every: bool) -> list[Row]:
        connection = self._connection()
        cursor = None
        try:
            cursor = connection.cursor()
            cursor.execute(sql, parameters)
            if every:
                rows: list[Row] = list(cursor.fetchall())
            else:
                row = cursor.fetchone()
                rows = [row] if row is not None else []
            cursor.close()
            return rows
        except BaseException as error:
            self._discard(connection)
            if not isinstance(error, self._dialect.loaded_dbapi.Error):
                raise
            raise exc.DBAPIError.instance(
                sql,
                parameters,
                error,
                self._dialect.loaded_dbapi.Error,
                connection_invalidated=self._dialect.is_disconnect(error, connection, cursor),
                dialect=self._dialect,
            ) from error

    def _connection(self) -> DBAPIConnection:
        thread = threading.get_ident()
        connection = self._connections.get(thread)
        if connection is None:
            connection = self._open()
            with self._lock:
                self._connections[thread] = connection
        return connection

    def _open(self) -> DBAPIConnection:
        """A new connection, made by the engine (its connect arguments and SQLite pragmas), then taken out of
        the pool."""
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.detach()
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        return dbapi_connection

    def _discard(self, connection: DBAPIConnection) -> None:
        thread = threading.get_ident()
        with self._lock:
            if self._connections.get(thread) is connection:
                del self._connections[thread]
        _close_quietly(connection)


def _close_quietly(connection: DBAPIConnection) -> None:
    """Close a connection that may be broken already: there is nothing to do about a failure to close it."""
    with suppress(Exception):
        connection.close()


class Database:
    """Owns the engine; hands out sessions whose transaction commits on success and rolls back on error, and
    the lookup connections of the SIP hot paths."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_database_engine(url)
        self.thread_connections = ThreadConnections(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.thread_connections.close()
        self.engine.dispose()

"""The lines SIP reads on every request: straight from the database, on each thread's own connection."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import exc, text

from tests.api.customers import open_account
from tonalite.app import Platform
from tonalite.services.line_directory import LineDirectory, SipLine
from tonalite.store.database import Database

NUMBER = "+33999001234"
USERNAME = "0033999001234"


def test_lines_are_found_by_username_and_by_number(platform: Platform) -> None:
    open_account(platform, "alice", NUMBER)
    directory = platform.services.line_directory
    line = directory.by_username(USERNAME)
    assert line is not None
    assert (line.number, line.username, line.realm) == (NUMBER, USERNAME, "sip.tonalite.test")
    assert line.simultaneous_calls == 2 and len(line.ha1_md5) == 32 and len(line.ha1_sha256) == 64
    assert directory.by_number(NUMBER) == line
    assert line.ha1_md5 not in repr(line) and line.ha1_sha256 not in repr(line) and USERNAME in repr(line)
    assert directory.platform_holds(NUMBER)
    assert directory.by_username("0033999009999") is None
    assert directory.by_number("+33999009999") is None
    assert not directory.platform_holds("+33999009999")


def test_a_password_reset_is_seen_at_the_next_lookup(platform: Platform) -> None:
    open_account(platform, "alice", NUMBER)
    directory = platform.services.line_directory
    before = directory.by_username(USERNAME)
    platform.services.lines.reset_password_by_number(NUMBER)
    after = directory.by_username(USERNAME)
    assert before is not None and after is not None
    assert after.ha1_md5 != before.ha1_md5


def test_each_thread_reads_on_a_connection_of_its_own_until_dispose(platform: Platform) -> None:
    open_account(platform, "alice", NUMBER)
    directory = platform.services.line_directory
    found: list[SipLine | None] = []
    worker = threading.Thread(target=lambda: found.append(directory.by_number(NUMBER)))
    worker.start()
    worker.join(timeout=10)
    assert found and found[0] == directory.by_number(NUMBER)
    platform.db.dispose()
    assert directory.by_number(NUMBER) == found[0]


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_replaced(platform: Platform) -> None:
    if platform.db.engine.dialect.name != "postgresql":
        pytest.skip("only a server can drop a connection")
    open_account(platform, "alice", NUMBER)
    directory = platform.services.line_directory
    assert directory.by_username(USERNAME) is not None
    with platform.db.engine.connect() as connection:
        terminated = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert terminated >= 1
    assert directory.by_username(USERNAME) is not None


def test_an_unreachable_database_raises_a_database_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere")
    try:
        with pytest.raises(exc.OperationalError):
            LineDirectory(db).by_username(USERNAME)
    finally:
        db.dispose()

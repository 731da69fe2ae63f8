from __future__ import annotations

from sqlalchemy import create_engine, inspect

from tonalite.store.migrate import check, upgrade
from tonalite.store.models import Base


def test_migrations_build_every_table_and_match_the_models(database_url: str) -> None:
    check(database_url)
    engine = create_engine(database_url.replace("postgresql+psycopg", "postgresql+psycopg"))
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    upgrade(database_url)
    check(database_url)

"""SQLAlchemy models, the database handle and Alembic migrations (SQLite and PostgreSQL)."""

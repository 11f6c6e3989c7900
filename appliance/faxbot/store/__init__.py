"""Durable state: the database (SQLAlchemy Core; SQLite by default, PostgreSQL-ready) and its
migrations (Alembic, from the first table)."""

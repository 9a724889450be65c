"""The register's Alembic migrations: ``env.py``, and one file per revision under ``versions/``."""

"""The register's tables, how a register is reached (a SQLite file or a PostgreSQL URL), and its
migrations, run to the newest from code whenever a register is opened.

The tables (``migrations/versions`` creates them; a test checks that they match these):

- ``cases`` — a case: its name, notes, current profile (canonical JSON and sha256) and ``version``,
  the counter optimistic locking compares;
- ``profile_edits`` — every version of every case's profile, the first included: never updated,
  except that erasure empties the JSON;
- ``records`` — the decision records, ``seq`` 1, 2, 3 … in chain order;
- ``chain_head`` — one row: the last record's ``seq`` and hash. Appending locks it (``SELECT … FOR
  UPDATE`` on PostgreSQL; on SQLite every write transaction is ``BEGIN IMMEDIATE``), so records
  are appended one at a time; and verification knows when the newest record was removed;
- ``reviews`` — marks that someone reviewed a record: appended, outside the chain;
- ``erasures`` — who erased which case, when and why;
- ``accounts``, ``sessions``, ``api_tokens``, ``login_failures``, ``secrets`` — the people of a
  shared workbench (:mod:`engine.accounts`): their role and Argon2 password hash, their login
  sessions and API tokens (sha256 of each, never the token), failed logins counted per account
  name and per address, and the key that signs the session cookies.

Times are stored as UTC without a zone (both back ends keep microseconds) and read back as UTC.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from engine.errors import write_problem
from engine.register.errors import RegisterError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

cases = sa.Table(
    "cases", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("profile_json", sa.Text, nullable=True),
    sa.Column("profile_sha256", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False),
)

profile_edits = sa.Table(
    "profile_edits", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("profile_json", sa.Text, nullable=True),
    sa.Column("profile_sha256", sa.String(64), nullable=False),
    sa.Column("edited_at", sa.DateTime, nullable=False),
    sa.Column("edited_by", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.UniqueConstraint("case_id", "version"),
)

records = sa.Table(
    "records", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("profile_json", sa.Text, nullable=True),
    sa.Column("profile_sha256", sa.String(64), nullable=False),
    sa.Column("kb_hash", sa.Text, nullable=False),
    sa.Column("kb_version", sa.Text, nullable=False),
    sa.Column("policykb_version", sa.Text, nullable=False),
    sa.Column("durable_rules_version", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=True),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("result_json", sa.Text, nullable=True),
    sa.Column("result_sha256", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("record_hash", sa.String(64), nullable=False),
)

chain_head = sa.Table(
    "chain_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

reviews = sa.Table(
    "reviews", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("seq", sa.Integer, nullable=False, index=True),
    sa.Column("reviewed_by", sa.Text, nullable=False),
    sa.Column("reviewed_at", sa.DateTime, nullable=False),
)

erasures = sa.Table(
    "erasures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("erased_at", sa.DateTime, nullable=False),
    sa.Column("erased_by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("changed_at", sa.DateTime, nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_at", sa.DateTime, nullable=False),
    sa.Column("locked_until", sa.DateTime, nullable=True),
)

secrets = sa.Table(
    "secrets", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


# --------------------------------------------------------------------------- where a register is

def default_location() -> str:
    """``$POLICYKB_REGISTER`` if set (a path or a URL), else ``$XDG_DATA_HOME/policykb/register.sqlite3``
    (``~/.local/share/policykb/register.sqlite3`` when ``XDG_DATA_HOME`` is unset)."""
    chosen = os.environ.get("POLICYKB_REGISTER", "").strip()
    if chosen:
        return chosen
    data = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return str(Path(data) / "policykb" / "register.sqlite3")


def register_url(where) -> URL:
    """The SQLAlchemy URL of a register given as a path, a ``sqlite:///`` URL or a PostgreSQL URL
    (``postgresql://`` is read as ``postgresql+psycopg://``); an SQLite file's folder is made.

    Raises
    ------
    RegisterError
        For a URL of another kind, an in-memory SQLite database, or a folder that cannot be made.
    """
    text = os.fspath(where)
    if "://" in text:
        try:
            url = make_url(text)
        except Exception:   # noqa: BLE001 - sqlalchemy's ArgumentError, worded here
            raise RegisterError(f"cannot read the register's address {text!r}",
                                zh=f"无法识别案件登记簿的地址 {text!r}") from None
        backend, _, driver = url.drivername.partition("+")
        if backend in ("postgresql", "postgres"):
            if driver not in ("", "psycopg"):
                raise RegisterError(f"the register on PostgreSQL uses the psycopg driver, not {driver}: "
                                    f"write postgresql:// or postgresql+psycopg://",
                                    zh=f"PostgreSQL 上的案件登记簿使用 psycopg 驱动，而不是 {driver}："
                                       f"请写 postgresql:// 或 postgresql+psycopg://")
            return url.set(drivername="postgresql+psycopg")
        if backend == "sqlite" and driver in ("", "pysqlite"):
            if not url.database or url.database == ":memory:":
                raise RegisterError("an in-memory register would keep nothing: give a file",
                                    zh="内存中的案件登记簿什么也不会保存：请给出一个文件")
            text = url.database
        else:
            raise RegisterError(f"a register is an SQLite file or a postgresql:// URL, not {url.drivername}://",
                                zh=f"案件登记簿是一个 SQLite 文件或 postgresql:// 地址，而不是 {url.drivername}://")
    path = Path(text).expanduser()
    if path.is_dir():
        raise RegisterError(f"cannot use {path} as the register: it is a folder; give a file in it",
                            zh=f"无法把 {path} 用作案件登记簿：这是一个文件夹；请给出其中的一个文件")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = write_problem(path, exc, what="the register", path_zh=f"案件登记簿 {path}")
        raise RegisterError(problem.message, zh=problem.zh) from None
    return URL.create("sqlite+pysqlite", database=str(path.absolute()))


def describe(url: URL) -> str:
    """The register as people name it: the file, or the URL without its password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ""
    return url.render_as_string(hide_password=True)


# --------------------------------------------------------------------------- connecting

#: How long a writer waits for another to finish before giving up, in seconds.
BUSY_SECONDS = 60


def connect(url: URL) -> Engine:
    """An engine for the register at ``url``: SQLite in WAL mode with foreign keys, a busy timeout,
    secure deletion, and every write transaction begun ``BEGIN IMMEDIATE``; PostgreSQL as it is.

    A connection from ``engine.execution_options(policykb_write=True)`` begins a write
    transaction; any other begins a read (SQLite: a deferred ``BEGIN``, which never waits in WAL mode).
    """
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=20)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # SQLAlchemy, not the sqlite3 module, begins transactions (the "begin" event below):
        # sqlite3's own would begin them deferred, and late (not before a SELECT).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # Erased text is overwritten with zeros in the file, not merely unlinked.
            cursor.execute("PRAGMA secure_delete = ON")
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        write = connection.get_execution_options().get("policykb_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


# --------------------------------------------------------------------------- migrating

#: The key of the PostgreSQL advisory lock that makes concurrent openings migrate one at a time.
_MIGRATION_LOCK = 0x706B62_7265  # "pkb" "re"


def alembic_config():
    """An Alembic configuration built in code, pointing at ``migrations/`` (no alembic.ini needed)."""
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def migrate(engine: Engine) -> None:
    """Bring the register's tables to the newest migration, in one transaction (nothing when they
    are there already); openings at the same time migrate one after another."""
    from alembic import command
    config = alembic_config()
    with engine.execution_options(policykb_write=True).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

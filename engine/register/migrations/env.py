"""Alembic's environment for the register.

:func:`engine.register.schema.migrate` passes its open connection in ``config.attributes``;
``alembic -c engine/register/alembic.ini …`` at the command line connects to ``-x register=WHERE``,
else ``$POLICYKB_REGISTER``, else the default location (docs/register.md).
"""

from __future__ import annotations

from alembic import context

from engine.register.schema import connect, default_location, metadata, register_url


def _run(connection) -> None:
    # transactional_ddl: on SQLite too, a migration is all or nothing (the register begins the
    # transaction itself; see schema.connect).
    context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
elif context.is_offline_mode():
    raise SystemExit("the register's migrations run against a register: leave out --sql")
else:
    where = context.get_x_argument(as_dictionary=True).get("register") or default_location()
    engine = connect(register_url(where))
    try:
        with engine.execution_options(policykb_write=True).connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()

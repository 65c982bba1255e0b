"""Alembic environment: the URL comes from pledgewatch's configuration.

pledgewatch itself passes an open connection (``config.attributes``);
the ``alembic`` command line loads config.toml the usual way.
"""

from logging.config import fileConfig

from alembic import context

from pledgewatch.models import Base

config = context.config
target_metadata = Base.metadata


def run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from pledgewatch.config import load_config
    from pledgewatch.db import make_engine

    engine = make_engine(load_config().database.url)
    with engine.connect() as conn:
        run_with(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("pledgewatch migrations run online only: use `pledgewatch init`")
run_online()

"""Alembic's environment: migrate with the app's own engine (`flask db upgrade`)."""

from __future__ import annotations

import logging
from typing import Any, cast

from alembic import context
from alembic.operations import MigrationScript
from alembic.runtime.migration import MigrationContext
from flask import current_app
from flask_sqlalchemy import SQLAlchemy

# Logging is the app's (JSON lines): unlike Alembic's default env.py, no fileConfig here.
log = logging.getLogger("alembic.env")
db = cast(SQLAlchemy, current_app.extensions["sqlalchemy"])
#: Tables another library keeps in this database (FOREIGN_TABLES, which a feature may set):
#: not the models', never dropped.
FOREIGN_TABLES: frozenset[str] = frozenset(current_app.config.get("FOREIGN_TABLES", ()))


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave the tables other libraries keep here out of what autogenerate compares."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def skip_empty_revision(
    migration: MigrationContext, revision: object, directives: list[MigrationScript]
) -> None:
    """Write no revision file when autogenerate finds no change."""
    cmd_opts = context.config.cmd_opts
    if getattr(cmd_opts, "autogenerate", False) and directives[0].upgrade_ops_list[0].is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def options() -> dict[str, Any]:
    """Return the options every run shares: the models' metadata, and type comparison."""
    configured: dict[str, Any] = current_app.extensions["migrate"].configure_args
    return {
        "target_metadata": db.metadata,
        "compare_type": True,
        "include_object": include_object,
        **configured,
    }


def run_offline() -> None:
    """Write the migrations' SQL instead of running it (`flask db upgrade --sql`)."""
    url = db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on one connection, in one transaction."""
    settings = {"process_revision_directives": skip_empty_revision, **options()}
    with db.engine.connect() as connection:
        context.configure(connection=connection, **settings)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

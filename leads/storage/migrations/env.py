"""Alembic environment: runs migrations on the engine handed over by ``db.migrate``."""

from alembic import context

from leads.storage.models import Base

config = context.config
connectable = config.attributes["engine"]

with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()

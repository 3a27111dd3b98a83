"""Where leads are kept: the database models, migrations, queries and the outbox."""

"""Database connection: SQLite by default, PostgreSQL when ``DATABASE_URL`` says so."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from common import settings
from common.secret_files import private_folder, write_private

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url() -> str:
    """``DATABASE_URL``, or an SQLite file under ``var/``."""
    url = settings.database_url()
    if url:
        return url
    path = settings.sqlite_path()
    private_folder(path.parent)
    if not path.exists():  # personal data: readable by the assistant's user only
        write_private(path, "")
    return f"sqlite:///{path}"


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # erased rows are overwritten, not left in free pages
    cursor.close()


def engine(url: Optional[str] = None) -> Engine:
    """One pooled engine per database URL (``DATABASE_URL`` when none is given)."""
    return _engine(url or database_url())


@lru_cache(maxsize=16)
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A pool of connections (SQLAlchemy 1.4 would open a new one, and run the PRAGMAs, per write).
        created = create_engine(
            url,
            future=True,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        event.listen(created, "connect", _sqlite_pragmas)
        return created
    return create_engine(
        url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args={"connect_timeout": 5}
    )


def session_factory(url: Optional[str] = None) -> sessionmaker:
    """Sessions bound to the engine for ``url``."""
    return sessionmaker(bind=engine(url), future=True, expire_on_commit=False)


def insert(session: Session, model: type):
    """An INSERT that supports ``ON CONFLICT`` on the session's database (SQLite or PostgreSQL)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(url: Optional[str] = None) -> None:
    """Bring the schema up to date with Alembic."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine(url)
    command.upgrade(config, "head")

"""Real databases for the storage tests: an SQLite file and PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from leads.storage.db import engine, migrate

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_schema() -> str:
    """A fresh schema in the ``test`` database; skips when PostgreSQL is not running."""
    try:
        admin = create_engine(POSTGRES, future=True, connect_args={"connect_timeout": 3})
        with admin.begin() as connection:
            schema = f"leads_{uuid.uuid4().hex[:10]}"
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        return schema
    except Exception as error:  # any connection failure means: not on this machine
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(error).__name__})")


def _drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leads.db'}"
        migrate(url)
        yield url
        engine(url).dispose()
        return
    schema = _postgres_schema()
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    migrate(url)
    yield url
    engine(url).dispose()
    _drop_schema(schema)


@pytest.fixture(autouse=True)
def _private_files(tmp_path, monkeypatch) -> None:
    """Generated salts and tokens go to the test's folder, not to ``var/``."""
    monkeypatch.setenv("ERASURE_SALT_FILE", str(tmp_path / "erasure_salt"))
    monkeypatch.setenv("RASA_TOKEN_FILE", str(tmp_path / "rasa_api_token"))
    monkeypatch.setenv("LEADS_OUTBOX_DIR", str(tmp_path / "outbox"))

"""Secrets and data files that only the assistant's own user may read (0600, folders 0700)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) readable by the owner only; returns it."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        path.chmod(0o700)
    except OSError:  # a folder we do not own (e.g. shared /tmp): leave it
        pass
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file created 0600 (never readable by others, not even briefly)."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def read_or_create(path: Path, given: str = "", nbytes: int = 24) -> str:
    """``given`` when set; else the secret kept in ``path``, generated (0600) the first time."""
    if given:
        return given
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except OSError:
        existing = ""
    if existing:
        return existing
    private_folder(path.parent)
    token = secrets.token_urlsafe(nbytes)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it meanwhile: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token)
    return token


def make_private(path: Path) -> None:
    """Restrict an existing file to its owner (no error when it is missing)."""
    try:
        path.chmod(0o600)
    except OSError:
        pass

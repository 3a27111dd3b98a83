"""The languages the assistant speaks, and picking a text in one of them."""

from __future__ import annotations

from typing import Any, Optional

#: Every language the assistant speaks: NLU data, replies, catalog, rep notifications.
LANGUAGES = ("en", "fr", "pl")
DEFAULT_LANGUAGE = "en"
#: The entity the NLU pipeline adds to a message to carry its language.
LANGUAGE_ENTITY = "language"


def language_of(value: Optional[str]) -> str:
    """A supported language code, defaulting to English."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def localized(texts: Any, language: Optional[str]) -> str:
    """Pick ``texts[language]`` from an ``{en, fr, pl}`` mapping (a plain string is returned as is)."""
    if isinstance(texts, dict):
        return texts.get(language_of(language)) or texts.get(DEFAULT_LANGUAGE) or ""
    return texts or ""

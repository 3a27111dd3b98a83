"""Loads the business configuration the action server reads (catalog, lexicon) once per process."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Pattern

import yaml

from common import settings
from common.languages import LANGUAGES, language_of, localized


def _load(name: str) -> Dict[str, Any]:
    with open(settings.config_dir() / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


class Lexicon:
    """Per-language regular expressions from ``config/lexicon.yml``."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        self.raw = raw
        self._compiled: Dict[str, List[Pattern[str]]] = {}

    def patterns(self, path: str, language: Optional[str]) -> List[Pattern[str]]:
        """Compiled patterns at a dotted ``path`` for one language."""
        key = f"{path}.{language_of(language)}"
        if key not in self._compiled:
            node: Any = self.raw
            for part in path.split("."):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            sources = node.get(language_of(language), []) if isinstance(node, dict) else []
            self._compiled[key] = [re.compile(p, re.IGNORECASE | re.UNICODE) for p in sources]
        return self._compiled[key]

    def search(self, path: str, language: Optional[str], text: str) -> Optional[re.Match]:
        """First match of any pattern at ``path`` in ``text``."""
        for pattern in self.patterns(path, language):
            match = pattern.search(text)
            if match:
                return match
        return None

    def matches(self, path: str, language: Optional[str], text: str) -> bool:
        """Whether any pattern at ``path`` matches ``text``."""
        return self.search(path, language, text) is not None

    def matches_in_any_language(self, path: str, text: str) -> bool:
        """Whether any pattern at ``path``, in any of the supported languages, matches ``text``."""
        return any(self.matches(path, language, text) for language in LANGUAGES)

    def keys(self, path: str) -> List[str]:
        """Child keys at a dotted ``path`` (e.g. the benefit ids)."""
        node: Any = self.raw
        for part in path.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return list(node) if isinstance(node, dict) else []

    def label(self, group: str, key: str, language: Optional[str]) -> str:
        """A label from the ``labels`` section."""
        return localized(self.raw.get("labels", {}).get(group, {}).get(key, key), language)

    @property
    def free_mail_domains(self) -> frozenset:
        return frozenset(d.lower() for d in self.raw.get("free_mail_domains", []))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon, loaded once."""
    return Lexicon(_load("lexicon.yml"))


@lru_cache(maxsize=1)
def catalog_data() -> Dict[str, Any]:
    """The raw product catalog, loaded once."""
    return _load("catalog.yml")

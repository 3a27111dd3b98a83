"""Visitor text is data: how it goes into a CRM field that is shown as HTML."""

from __future__ import annotations

from html import escape


def as_html(text: str) -> str:
    """Plain text as inert HTML: every tag escaped, line breaks kept as ``<br>``."""
    return "<br>".join(escape(line, quote=True) for line in (text or "").split("\n"))
